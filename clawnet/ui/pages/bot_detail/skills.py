"""The Skills tab: the skills the bot's gateway offers (with what each needs and whether it is
ready), a switch per skill for this bot, its custom skills (uploaded as a zip or a skill
folder's files), the packs attached to it, and the skill packs themselves.

Packs are managed here rather than on a page of their own: a pack is made of the skill names
this tab lists, and is attached from the bot people are looking at (to it and, at once, to any
other bot they may attach packs to)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from clawnet import runtime
from clawnet.bots.skills_views import BotSkillsView, PackView
from clawnet.bots.views import BotChoice
from clawnet.errors import UserError
from clawnet.events import FleetEvent, Kind
from clawnet.security.permissions import Principal
from clawnet.ui.components.forms import data_table, field_error, native_select, text_area_field, text_field
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


def skill_row(r: Any) -> rx.Component:
    s = BotSkillsState
    return rx.table.row(
        rx.table.cell(
            rx.switch(
                checked=r.enabled,
                on_change=lambda on: s.toggle(r.name, on),
                disabled=~BotDetailState.header.can_configure | s.busy,
                aria_label="Use the skill " + r.name,
                data_testid="skill-toggle-" + r.name,
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(r.emoji, aria_hidden="true"), rx.text(r.name, weight="medium"), spacing="1"
                ),
                rx.text(r.description, size="1", color_scheme="gray"),
                spacing="0",
                max_width="28em",
            )
        ),
        rx.table.cell(rx.text(r.source, size="2")),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    r.readiness,
                    color_scheme=rx.cond(r.ready, "green", "gray"),
                    data_testid="skill-ready-" + r.name,
                ),
                rx.cond(r.needs != "", rx.text("Needs " + r.needs, size="1", color_scheme="gray")),
                spacing="1",
            ),
            title="Requires: " + r.requirements,
        ),
        rx.table.cell(
            rx.cond(
                r.visible,
                rx.badge("Yes", color_scheme="green", data_testid="skill-visible-" + r.name),
                rx.badge("No", color_scheme="gray", data_testid="skill-visible-" + r.name),
            )
        ),
        rx.table.cell(rx.text(r.packs, size="1")),
        data_testid=r.testid,
    )


def mode_line() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.text(
            rx.cond(
                s.skills.chosen,
                "This bot uses only the skills turned on here, those of its packs, and its custom skills.",
                "This bot uses every skill its gateway offers (OpenClaw's default). Turning one off "
                "limits it to the others.",
            ),
            size="2",
            data_testid="skills-mode",
        ),
        rx.cond(
            s.skills.chosen & BotDetailState.header.can_configure,
            rx.button(
                "Drop this bot's own choices",
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=s.reset_choices,
                data_testid="skills-reset",
            ),
        ),
        rx.cond(
            s.skills.gateway_note != "",
            rx.callout(s.skills.gateway_note, color_scheme="amber", role="status", data_testid="skills-note"),
        ),
        spacing="2",
        width="100%",
    )


def custom_section() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.heading("Custom skills", size="4"),
        rx.cond(
            s.skills.custom.length() == 0,
            rx.text("No custom skill yet.", size="2", color_scheme="gray", data_testid="custom-skills-empty"),
            data_table(
                ("Skill", "Size", "Installed", "Uploaded by", ""),
                s.skills.custom,
                lambda c: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(c.name, weight="medium"), rx.text(c.description, size="1"))
                    ),
                    rx.table.cell(c.size),
                    rx.table.cell(rx.cond(c.installed, "Yes", "Not yet")),
                    rx.table.cell(c.uploaded_by),
                    rx.table.cell(
                        rx.cond(
                            BotDetailState.header.can_configure,
                            rx.button(
                                "Remove",
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=s.remove_custom(c.id),
                                aria_label="Remove the custom skill " + c.name,
                                data_testid="custom-skill-remove-" + c.name,
                            ),
                        )
                    ),
                    data_testid="custom-skill-" + c.name,
                ),
                "custom-skills",
            ),
        ),
        rx.cond(
            BotDetailState.header.can_configure,
            rx.vstack(
                rx.upload(
                    rx.button("Upload a skill", size="2", variant="soft", type="button"),
                    id=UPLOAD_ID,
                    accept={"application/zip": [".zip"], "text/markdown": [".md"], "text/plain": [".txt"]},
                    multiple=True,
                    on_drop=s.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                    data_testid="skill-upload",
                    aria_label="Upload a skill (.zip, or the folder's files with SKILL.md)",
                    border="none",
                    padding="0",
                ),
                rx.text(
                    "A .zip of the skill's folder, or its files (SKILL.md with a name and a description, "
                    "and the files next to it); at most 1 MB. The gateway checks it and installs it in "
                    "this bot's workspace.",
                    size="1",
                    color_scheme="gray",
                ),
                field_error(s.upload_error, "skill-upload"),
                spacing="1",
            ),
        ),
        spacing="2",
        width="100%",
    )


def packs_section() -> rx.Component:
    s = BotSkillsState
    can = BotDetailState.header.can_configure
    attached = rx.foreach(
        s.skills.packs,
        lambda p: rx.hstack(
            rx.badge(p.name, data_testid="attached-pack-" + p.name),
            rx.text(p.skills, size="1", color_scheme="gray"),
            rx.cond(
                p.can_edit,
                rx.button(
                    "Detach",
                    size="1",
                    variant="ghost",
                    on_click=s.detach(p.id),
                    aria_label="Detach the pack " + p.name,
                    data_testid="detach-pack-" + p.name,
                ),
            ),
            align="center",
        ),
    )
    attach = rx.hstack(
        native_select(
            "Attach a pack",
            s.attachable,
            testid="attach-pack-choice",
            value=s.attach_choice,
            on_change=s.set_attach_choice,
            show_label=False,
        ),
        rx.button("Attach pack", size="2", on_click=s.attach, data_testid="attach-pack"),
        spacing="2",
    )
    return rx.vstack(
        rx.heading("Packs on this bot", size="4"),
        rx.cond(
            s.skills.packs.length() == 0,
            rx.text(
                "No pack is attached.", size="2", color_scheme="gray", data_testid="attached-packs-empty"
            ),
            rx.vstack(attached, spacing="1", data_testid="attached-packs"),
        ),
        rx.cond(can, attach),
        spacing="2",
        width="100%",
    )


def pack_form() -> rx.Component:
    s = BotSkillsState
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New pack", size="3"),
                text_field(
                    "Name", name="name", testid="skill-pack-name", error=s.pack_errors.get("name", "")
                ),
                text_field(
                    "Skills",
                    name="skills",
                    testid="skill-pack-skills",
                    error=s.pack_errors.get("skills", ""),
                    hint="Skill names from the list above, separated by commas (e.g. weather, healthcheck).",
                ),
                text_area_field(
                    "Description",
                    name="description",
                    testid="skill-pack-description",
                    error=s.pack_errors.get("description", ""),
                ),
                rx.text("Attach to", weight="medium", size="2"),
                rx.flex(
                    rx.foreach(
                        s.targets,
                        lambda b: rx.el.label(
                            rx.hstack(
                                rx.checkbox(
                                    checked=s.pack_bots.contains(b.id.to_string()),
                                    on_change=lambda on: s.set_pack_bot(b.id.to_string(), on),
                                    data_testid="skill-pack-bot-" + b.id.to_string(),
                                ),
                                rx.text(b.name, size="2"),
                                spacing="1",
                                align="center",
                            )
                        ),
                    ),
                    wrap="wrap",
                    spacing="3",
                ),
                field_error(s.pack_errors.get("bots", ""), "skill-pack-bots"),
                rx.button("Save pack", type="submit", data_testid="skill-pack-save"),
                spacing="2",
                width="100%",
            ),
            on_submit=s.save_pack,
            reset_on_submit=False,
        ),
        width="100%",
        data_testid="skill-pack-form",
    )


def packs_manager() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        rx.heading("Skill packs", size="4"),
        rx.text(
            "A pack is a named set of skills attached to many bots at once; changing it changes "
            "every bot it is attached to. An admin, or the owner of every bot a pack touches, may change it.",
            size="1",
            color_scheme="gray",
        ),
        rx.cond(
            s.all_packs.length() == 0,
            rx.text("No pack yet.", size="2", color_scheme="gray", data_testid="skill-packs-empty"),
            data_table(
                ("Pack", "Skills", "Bots", ""),
                s.all_packs,
                lambda p: rx.table.row(
                    rx.table.cell(
                        rx.vstack(rx.text(p.name, weight="medium"), rx.text(p.description, size="1"))
                    ),
                    rx.table.cell(rx.text(p.skills, size="2")),
                    rx.table.cell(rx.text(p.bots, size="2")),
                    rx.table.cell(
                        rx.cond(
                            p.can_edit,
                            rx.button(
                                "Delete",
                                size="1",
                                variant="soft",
                                color_scheme="red",
                                on_click=s.delete_pack(p.id),
                                aria_label="Delete the pack " + p.name,
                                data_testid="delete-pack-" + p.name,
                            ),
                        )
                    ),
                    data_testid="skill-pack-" + p.name,
                ),
                "skill-packs",
            ),
        ),
        rx.cond(s.targets.length() > 0, pack_form()),
        spacing="2",
        width="100%",
    )


def skills_tab() -> rx.Component:
    s = BotSkillsState
    return rx.vstack(
        mode_line(),
        data_table(
            ("On", "Skill", "Source", "Ready", "Model sees it", "From packs"),
            s.skills.rows,
            skill_row,
            "skills-table",
        ),
        custom_section(),
        packs_section(),
        packs_manager(),
        spacing="4",
        width="100%",
        data_testid="bot-skills",
    )
