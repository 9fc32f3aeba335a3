"""The Skills tab's state: the bot's skills view, the packs, the bots a pack may go to, and the
handlers (each calls the bots service, which checks permission)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.skills_views import BotSkillsView, PackView
from clawnet.bots.views import BotChoice
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.pages.bot_detail.state import BotDetailState, part
from clawnet.ui.session import current_principal, error_toast
from clawnet.ui.typed import Field, event, field

RELOAD_ON = frozenset({Kind.FLEET_CHANGED, Kind.CONFIG_APPLIED})
UPLOAD_ID = "skill-upload"
MAX_UPLOAD = 1_000_001
NO_VIEW = BotSkillsView(bot_id=0, chosen=False, effective="", gateway_note="")


@part("skills")
class BotSkillsState(BotDetailState):
    skills: Field[BotSkillsView] = field(default_factory=lambda: NO_VIEW)
    all_packs: Field[list[PackView]] = field(default_factory=list)
    targets: Field[list[BotChoice]] = field(default_factory=list)
    pack_bots: Field[list[str]] = field(default_factory=list)  # ids (as text) the new pack goes to
    attach_choice: Field[str] = field("")
    pack_errors: Field[dict[str, str]] = field(default_factory=dict)
    upload_error: Field[str] = field("")
    busy: Field[bool] = field(False)

    async def _load_part(self, actor: Principal | None) -> None:
        bots = runtime.bots()
        self.skills = await bots.bot_skills(actor, self.current_bot)
        self.all_packs = await bots.skill_packs(actor, bot_id=self.current_bot)
        self.targets = await bots.skill_pack_targets(actor)
        if not self.pack_bots:
            self.pack_bots = [str(self.current_bot)]

    async def _follow_part(self, batch: list[FleetEvent], actor: Principal | None) -> None:
        if any(e.kind in RELOAD_ON for e in batch):
            await self._load_part(actor)

    @rx.var
    def attachable(self) -> list[dict[str, str]]:
        options = [{"value": "", "label": "Choose a pack"}]
        return options + [{"value": str(p.id), "label": p.name} for p in self.all_packs if not p.attached]

    async def _after(self, toast: Any) -> Any:
        async with self:
            self.busy = False
            try:
                await self._load_part(await current_principal(self))
            except UserError:
                pass
        return toast

    async def _run(self, call: Any) -> Any:
        try:
            message = await call
            toast = rx.toast.success(message) if isinstance(message, str) else None
        except UserError as exc:
            toast = error_toast(exc)
        return await self._after(toast)

    async def _actor_and_bot(self) -> tuple[Principal | None, int]:
        async with self:
            self.busy = True
            return await current_principal(self), self.current_bot

    @event(background=True)
    async def toggle(self, skill: str, on: bool) -> Any:
        actor, bot_id = await self._actor_and_bot()
        return await self._run(runtime.bots().set_bot_skill(actor, bot_id, str(skill), bool(on)))

    @event(background=True)
    async def reset_choices(self) -> Any:
        actor, bot_id = await self._actor_and_bot()
        return await self._run(runtime.bots().reset_bot_skills(actor, bot_id))

    @event(background=True)
    async def remove_custom(self, skill_id: int) -> Any:
        actor, bot_id = await self._actor_and_bot()
        return await self._run(runtime.bots().remove_custom_skill(actor, bot_id, int(skill_id)))

    @event
    async def upload(self, files: list[rx.UploadFile]) -> Any:
        items = [(str(f.name or f.filename or "file"), await f.read(MAX_UPLOAD)) for f in files or []]
        try:
            message = await runtime.bots().add_custom_skill(
                await current_principal(self), self.current_bot, items
            )
        except UserError as exc:
            self.upload_error = exc.field_errors.get("file") or str(exc)
            return None
        self.upload_error = ""
        await self._load_part(await current_principal(self))
        return rx.toast.success(message)

    @event
    def set_attach_choice(self, value: str) -> None:
        self.attach_choice = str(value)

    @event(background=True)
    async def attach(self) -> Any:
        actor, bot_id = await self._actor_and_bot()
        async with self:
            choice = self.attach_choice
        if not choice.isdigit():
            return await self._after(rx.toast.error("Choose a pack to attach."))
        return await self._run(runtime.bots().attach_skill_pack(actor, int(choice), [bot_id]))

    @event(background=True)
    async def detach(self, pack_id: int) -> Any:
        actor, bot_id = await self._actor_and_bot()
        return await self._run(runtime.bots().detach_skill_pack(actor, int(pack_id), bot_id))

    @event(background=True)
    async def delete_pack(self, pack_id: int) -> Any:
        actor, _ = await self._actor_and_bot()
        return await self._run(runtime.bots().delete_skill_pack(actor, int(pack_id)))

    @event
    def set_pack_bot(self, bot_id: str, on: bool) -> None:
        rest = [b for b in self.pack_bots if b != str(bot_id)]
        self.pack_bots = [*rest, str(bot_id)] if on else rest

    @event
    async def save_pack(self, form: dict[str, Any]) -> Any:
        actor = await current_principal(self)
        bots = runtime.bots()
        try:
            pack_id = await bots.save_skill_pack(
                actor,
                None,
                str(form.get("name", "")),
                str(form.get("description", "")),
                str(form.get("skills", "")),
            )
        except UserError as exc:
            self.pack_errors = exc.field_errors or {"name": str(exc)}
            return None
        self.pack_errors = {}
        message = "Saved the pack."
        ids = [int(b) for b in self.pack_bots if b.isdigit()]
        if ids:
            try:
                message = await bots.attach_skill_pack(actor, pack_id, ids)
            except UserError as exc:
                self.pack_errors = {"bots": str(exc)}
        await self._load_part(actor)
        return [rx.set_value("skill-pack-name", ""), rx.toast.success(message)]
