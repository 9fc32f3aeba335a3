"""Skills: which of its gateway's skills a bot may use, custom skills, and skill packs.

A bot's choices, packs and custom skills are desired state (`models.skills`); the generated
config carries the bot's effective list (`controlplane.skill_choices`) and the reconciler
installs custom skills through the gateway (`controlplane.skill_sync`). The gateway's own report
(`skills.status`) says what it offers and what each skill needs.

Rights: whoever may see a bot sees its skills; changing a bot's skills needs the right to
configure it (operators assigned to it, its owner, admins). Packs: any operator or admin may
create one; changing, deleting, attaching or detaching one needs an admin or the owner of every
bot it touches. Every change is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.skill_rules import check_pack, check_skill_name, read_skill
from clawnet.bots.skills_views import BotSkillsView, CustomSkillView, PackView, skill_rows
from clawnet.bots.views import BotChoice
from clawnet.controlplane.gateway_skills import SkillReport, skill_status
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.skill_choices import SkillChoices, load_choices
from clawnet.controlplane.skill_sync import remove_local_skill
from clawnet.enums import GatewayKind
from clawnet.errors import NotFound, PermissionDenied, Unavailable, UserError
from clawnet.models import Bot, Gateway, utcnow
from clawnet.models.skills import BotSkill, BotSkillPack, CustomSkill, SkillPack
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, require, role_allows

PACK_RIGHTS = "Only an admin, or the owner of every bot the pack is attached to, can do that."


def file_size(size: int) -> str:
    return f"{size} B" if size < 1000 else f"{size / 1000:.1f} KB"


def _touch(session: Session, bot_id: int) -> None:
    bot = session.get(Bot, bot_id)
    if bot is not None:
        bot.config_version += 1
        bot.updated_at = utcnow()
        session.add(bot)


def _pack_bots(session: Session, pack_id: int) -> list[int]:
    return list(session.exec(select(BotSkillPack.bot_id).where(BotSkillPack.pack_id == pack_id)).all())


def _may_touch(session: Session, actor: Principal, bot_ids: Sequence[int]) -> bool:
    if actor.is_admin:
        return True
    owners = session.exec(select(Bot.owner_id).where(col(Bot.id).in_(list(bot_ids)))).all()
    return all(o == actor.user_id for o in owners)


def _require_pack_rights(session: Session, actor: Principal | None, bot_ids: Sequence[int]) -> Principal:
    who = require(session, actor, Action.VIEW_FLEET)
    if not role_allows(who.role, Action.CONFIGURE_BOT) or not _may_touch(session, who, bot_ids):
        raise PermissionDenied(PACK_RIGHTS)
    return who


def _pack_view(session: Session, actor: Principal, pack: SkillPack, bot_id: int | None) -> PackView:
    assert pack.id is not None
    bot_ids = _pack_bots(session, pack.id)
    allowed = accessible_bot_ids(session, actor)
    shown = [i for i in bot_ids if allowed is None or i in allowed]
    names = session.exec(select(Bot.name).where(col(Bot.id).in_(shown)).order_by(col(Bot.name))).all()
    hidden = len(bot_ids) - len(shown)
    bots = ", ".join(names) + (f" (+{hidden} more)" if hidden else "")
    return PackView(
        id=pack.id,
        name=pack.name,
        description=pack.description,
        skills=", ".join(pack.skills or ()),
        skill_count=len(pack.skills or ()),
        bots=bots,
        bot_count=len(bot_ids),
        attached=bot_id in bot_ids,
        can_edit=role_allows(actor.role, Action.CONFIGURE_BOT) and _may_touch(session, actor, bot_ids),
    )


class Skills(BotsBase):
    # --- reading ------------------------------------------------------------------------------

    async def _report(self, bot: Bot) -> tuple[SkillReport | None, str]:
        api = self.control.gateway(bot.gateway_id) if bot.gateway_id is not None else None
        if api is None:
            return None, (
                "The bot's gateway cannot be reached now (stopped, or still starting): what it offers "
                "shows here once it answers."
            )
        try:
            return await skill_status(api, bot.agent_id), ""
        except GatewayError as exc:
            return None, f"The gateway did not list its skills: {exc.message}"
        except TimeoutError:
            return None, "The gateway did not answer in time; try again."

    async def bot_skills(self, actor: Principal | None, bot_id: int) -> BotSkillsView:
        def load(s: Session) -> tuple[Bot, SkillChoices, list[CustomSkillView], list[PackView]]:
            who = require(s, actor, Action.VIEW_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("This bot does not exist.")
            customs = s.exec(
                select(CustomSkill).where(CustomSkill.bot_id == bot_id).order_by(col(CustomSkill.name))
            ).all()
            custom = [
                CustomSkillView(c.id or 0, c.name, c.description, file_size(c.size), c.uploaded_by, False)
                for c in customs
            ]
            attached = s.exec(
                select(SkillPack)
                .join(BotSkillPack, col(BotSkillPack.pack_id) == col(SkillPack.id))
                .where(BotSkillPack.bot_id == bot_id)
                .order_by(col(SkillPack.name))
            ).all()
            s.expunge(bot)
            return bot, load_choices(s, bot_id), custom, [_pack_view(s, who, p, bot_id) for p in attached]

        bot, state, custom, packs = await self._db(load)
        report, note = await self._report(bot)
        if report is not None:
            there = {s.name for s in report.skills if s.source == "openclaw-workspace"}
            custom = [CustomSkillView(**{**c.__dict__, "installed": c.name in there}) for c in custom]
        effective = state.effective()
        return BotSkillsView(
            bot_id=bot_id,
            chosen=state.chosen,
            effective=", ".join(effective) if effective is not None else "",
            gateway_note=note,
            rows=skill_rows(state, report),
            packs=packs,
            custom=custom,
        )

    async def skill_packs(self, actor: Principal | None, *, bot_id: int | None = None) -> list[PackView]:
        def load(s: Session) -> list[PackView]:
            who = require(s, actor, Action.VIEW_FLEET)
            packs = s.exec(select(SkillPack).order_by(col(SkillPack.name))).all()
            return [_pack_view(s, who, p, bot_id) for p in packs]

        return await self._db(load)

    async def skill_pack_targets(self, actor: Principal | None) -> list[BotChoice]:
        """The bots `actor` may attach packs to (all for an admin, their own for an operator)."""

        def load(s: Session) -> list[BotChoice]:
            who = require(s, actor, Action.VIEW_FLEET)
            if not role_allows(who.role, Action.CONFIGURE_BOT):
                return []
            query = select(Bot).order_by(col(Bot.name))
            if not who.is_admin:
                query = query.where(Bot.owner_id == who.user_id)
            return [BotChoice(b.id or 0, b.name) for b in s.exec(query).all()]

        return await self._db(load)

    # --- a bot's own choices ------------------------------------------------------------------

    async def set_bot_skill(self, actor: Principal | None, bot_id: int, skill: str, enabled: bool) -> str:
        """Turn one skill on or off for a bot. A bot still on OpenClaw's default (every eligible
        skill) is first limited to what its gateway shows it now, so only this skill changes."""
        name = check_skill_name(skill)
        enabled = bool(enabled)

        def check(s: Session) -> tuple[Bot, bool]:
            require(s, actor, Action.CONFIGURE_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("This bot does not exist.")
            s.expunge(bot)
            return bot, load_choices(s, bot_id).chosen

        bot, chosen = await self._db(check)
        current: list[str] = []
        if not chosen:
            report, note = await self._report(bot)
            if report is None:
                raise Unavailable(
                    "This bot uses every skill its gateway offers; to change one, ClawNet needs the "
                    f"gateway's list. {note}"
                )
            current = report.visible_names()

        def record(s: Session) -> None:
            who = require(s, actor, Action.CONFIGURE_BOT, bot_id)
            rows = {r.skill: r for r in s.exec(select(BotSkill).where(BotSkill.bot_id == bot_id)).all()}
            for other in current:
                if other not in rows:
                    rows[other] = BotSkill(bot_id=bot_id, skill=other, enabled=True)
                    s.add(rows[other])
            row = rows.get(name) or BotSkill(bot_id=bot_id, skill=name)
            before = row.enabled if row.id is not None else None
            row.enabled, row.updated_at = enabled, utcnow()
            s.add(row)
            _touch(s, bot_id)
            audit.record(
                s, who, "skills.set", "bot", bot_id,
                f"turned skill {name} {'on' if enabled else 'off'} for {bot.name}",
                before={"skill": name, "enabled": before}, after={"skill": name, "enabled": enabled},
            )  # fmt: skip

        await self._db(record)
        self._changed(bot_id)
        return f"{name} is {'on' if enabled else 'off'} for {bot.name}."

    async def reset_bot_skills(self, actor: Principal | None, bot_id: int) -> str:
        """Drop the bot's own choices (its packs stay)."""

        def record(s: Session) -> str:
            who = require(s, actor, Action.CONFIGURE_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("This bot does not exist.")
            rows = s.exec(select(BotSkill).where(BotSkill.bot_id == bot_id)).all()
            for r in rows:
                s.delete(r)
            _touch(s, bot_id)
            audit.record(
                s, who, "skills.reset", "bot", bot_id, f"cleared {len(rows)} skill choices of {bot.name}"
            )
            return bot.name

        name = await self._db(record)
        self._changed(bot_id)
        return f"{name} no longer has skill choices of its own."

    # --- custom skills ------------------------------------------------------------------------

    async def add_custom_skill(
        self, actor: Principal | None, bot_id: int, files: Sequence[tuple[str, bytes]]
    ) -> str:
        """Keep an uploaded skill for the bot; the reconciler installs it through the gateway."""
        skill = read_skill([(str(n), bytes(d)) for n, d in files])

        def record(s: Session) -> str:
            who = require(s, actor, Action.CONFIGURE_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("This bot does not exist.")
            row = s.exec(
                select(CustomSkill).where(CustomSkill.bot_id == bot_id, CustomSkill.name == skill.name)
            ).first() or CustomSkill(bot_id=bot_id, name=skill.name, archive=b"", sha256="")
            replaced = row.id is not None
            row.description, row.archive = skill.description, skill.archive
            row.sha256, row.size = hashlib.sha256(skill.archive).hexdigest(), len(skill.archive)
            row.uploaded_by, row.created_at = who.label, utcnow()
            s.add(row)
            _touch(s, bot_id)
            audit.record(
                s, who, "skills.custom.add", "bot", bot_id,
                f"{'replaced' if replaced else 'added'} custom skill {skill.name} for {bot.name}",
                after={"skill": skill.name, "sha256": row.sha256, "size": row.size},
            )  # fmt: skip
            return bot.name

        name = await self._db(record)
        self._changed(bot_id)
        return f"{skill.name} is kept for {name}; the gateway installs it in a moment."

    async def remove_custom_skill(self, actor: Principal | None, bot_id: int, skill_id: int) -> str:
        def record(s: Session) -> tuple[str, str, bool]:
            who = require(s, actor, Action.CONFIGURE_BOT, bot_id)
            row = s.get(CustomSkill, int(skill_id))
            bot = s.get(Bot, bot_id)
            if row is None or bot is None or row.bot_id != bot_id:
                raise NotFound("This custom skill is already gone.")
            gw = s.get(Gateway, bot.gateway_id) if bot.gateway_id is not None else None
            s.delete(row)
            # A choice copied from the gateway's list must not keep the removed skill switched on.
            for choice in s.exec(
                select(BotSkill).where(BotSkill.bot_id == bot_id, BotSkill.skill == row.name)
            ).all():
                s.delete(choice)
            _touch(s, bot_id)
            audit.record(
                s,
                who,
                "skills.custom.remove",
                "bot",
                bot_id,
                f"removed custom skill {row.name} of {bot.name}",
            )
            return row.name, bot.agent_id, gw is None or gw.kind == GatewayKind.LOCAL.value

        name, agent_id, local = await self._db(record)
        if local:
            remove_local_skill(self.settings, agent_id, name)
        self._changed(bot_id)
        return f"Removed {name}." + (
            ""
            if local
            else " A remote gateway keeps its copy until removed there; the bot no longer lists it."
        )

    # --- packs ----------------------------------------------------------------------------------

    async def save_skill_pack(
        self,
        actor: Principal | None,
        pack_id: int | None,
        name: str,
        description: str,
        skills: str | Sequence[str],
    ) -> int:
        """Create a pack (`pack_id` None) or change one; the bots it is attached to follow."""
        name, description, names = check_pack(name, description, skills)

        def record(s: Session) -> tuple[int, list[int]]:
            bot_ids = _pack_bots(s, int(pack_id)) if pack_id else []
            who = _require_pack_rights(s, actor, bot_ids)
            same = s.exec(select(SkillPack).where(SkillPack.name == name)).first()
            if same is not None and same.id != pack_id:
                raise UserError(field_errors={"name": "Another pack has this name."})
            pack = (
                s.get(SkillPack, int(pack_id)) if pack_id else SkillPack(name=name, created_by_id=who.user_id)
            )
            if pack is None:
                raise NotFound("This pack no longer exists.")
            before = {"name": pack.name, "skills": list(pack.skills or ())} if pack_id else None
            pack.name, pack.description, pack.skills, pack.updated_at = name, description, names, utcnow()
            s.add(pack)
            s.flush()
            for b in bot_ids:
                _touch(s, b)
            audit.record(
                s, who, "skills.pack.save", "skill_pack", pack.id, f"saved skill pack {name}",
                before=before, after={"name": name, "skills": names},
            )  # fmt: skip
            return pack.id or 0, bot_ids

        new_id, bot_ids = await self._db(record)
        if bot_ids:
            self._changed(None)
        return new_id

    async def delete_skill_pack(self, actor: Principal | None, pack_id: int) -> str:
        def record(s: Session) -> str:
            bot_ids = _pack_bots(s, int(pack_id))
            who = _require_pack_rights(s, actor, bot_ids)
            pack = s.get(SkillPack, int(pack_id))
            if pack is None:
                raise NotFound("This pack no longer exists.")
            for link in s.exec(select(BotSkillPack).where(BotSkillPack.pack_id == pack_id)).all():
                s.delete(link)
            for b in bot_ids:
                _touch(s, b)
            s.delete(pack)
            audit.record(
                s, who, "skills.pack.delete", "skill_pack", pack_id, f"deleted skill pack {pack.name}"
            )
            return pack.name

        name = await self._db(record)
        self._changed(None)
        return f"Deleted the pack {name}."

    async def attach_skill_pack(self, actor: Principal | None, pack_id: int, bot_ids: Sequence[int]) -> str:
        """Attach a pack to several bots at once (those it is not attached to yet)."""
        ids = sorted({int(b) for b in bot_ids})
        if not ids:
            raise UserError(field_errors={"bots": "Choose at least one bot."})

        def record(s: Session) -> str:
            who = _require_pack_rights(s, actor, ids)
            pack = s.get(SkillPack, int(pack_id))
            if pack is None:
                raise NotFound("This pack no longer exists.")
            bots = s.exec(select(Bot).where(col(Bot.id).in_(ids))).all()
            if len(bots) != len(ids):
                raise NotFound("One of these bots no longer exists.")
            have = set(_pack_bots(s, int(pack_id)))
            for b in bots:
                require(s, who, Action.CONFIGURE_BOT, b.id)
                if b.id not in have:
                    s.add(BotSkillPack(bot_id=b.id or 0, pack_id=int(pack_id)))
                    _touch(s, b.id or 0)
            names = ", ".join(sorted(b.name for b in bots))
            audit.record(
                s, who, "skills.pack.attach", "skill_pack", pack_id, f"attached {pack.name} to {names}",
                after={"bots": ids},
            )  # fmt: skip
            return f"{pack.name} is attached to {names}."

        message = await self._db(record)
        for b in ids:
            self._changed(b)
        return message

    async def detach_skill_pack(self, actor: Principal | None, pack_id: int, bot_id: int) -> str:
        def record(s: Session) -> str:
            who = _require_pack_rights(s, actor, [bot_id])
            link = s.exec(
                select(BotSkillPack).where(BotSkillPack.pack_id == pack_id, BotSkillPack.bot_id == bot_id)
            ).first()
            pack, bot = s.get(SkillPack, int(pack_id)), s.get(Bot, bot_id)
            if link is None or pack is None or bot is None:
                raise NotFound("This pack is not attached to this bot.")
            s.delete(link)
            _touch(s, bot_id)
            audit.record(
                s, who, "skills.pack.detach", "skill_pack", pack_id, f"detached {pack.name} from {bot.name}"
            )
            return f"{pack.name} is no longer attached to {bot.name}."

        message = await self._db(record)
        self._changed(bot_id)
        return message
