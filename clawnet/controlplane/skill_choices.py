"""A bot's effective skills: its own choices plus its packs plus its custom skills (one rule, used
by the generated config and by the pages that show it).

- No choice and no pack: None, OpenClaw's default (every skill the gateway finds eligible, the
  bot's custom skills included, since they live in its workspace).
- Otherwise the explicit list OpenClaw applies as `agents.entries.<id>.skills`: the skills turned
  on, those of every attached pack and the bot's custom skills, minus the skills turned off (an
  "off" beats a pack).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from clawnet.models.skills import BotSkill, BotSkillPack, CustomSkill, SkillPack


@dataclass(frozen=True)
class SkillChoices:
    """What ClawNet's database says about one bot's skills."""

    choices: Mapping[str, bool]  # skill name -> on/off, as a person set it
    packs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (pack name, its skills)
    custom: tuple[str, ...] = ()  # names of the bot's uploaded skills

    @property
    def chosen(self) -> bool:
        """Whether the bot is limited to a list (else it uses OpenClaw's default)."""
        return bool(self.choices) or bool(self.packs)

    def effective(self) -> tuple[str, ...] | None:
        return effective_skills(self.choices, (s for _, s in self.packs), self.custom)

    def packs_of(self, skill: str) -> list[str]:
        return [name for name, skills in self.packs if skill in skills]


def effective_skills(
    choices: Mapping[str, bool], pack_skills: Iterable[Iterable[str]], custom: Iterable[str] = ()
) -> tuple[str, ...] | None:
    """The skill list a bot's agent gets (None: no list, OpenClaw's default)."""
    packs = [tuple(p) for p in pack_skills]
    if not choices and not packs:
        return None
    wanted = {name for name, on in choices.items() if on}
    for skills in packs:
        wanted.update(skills)
    wanted.update(custom)
    wanted -= {name for name, on in choices.items() if not on}
    return tuple(sorted(wanted))


def load_choices(session: Session, bot_id: int) -> SkillChoices:
    return load_choices_of(session, [bot_id])[bot_id]


def load_choices_of(session: Session, bot_ids: Iterable[int]) -> dict[int, SkillChoices]:
    """Each bot's skill choices, in three queries whatever the number of bots."""
    ids = sorted(set(bot_ids))
    choices: dict[int, dict[str, bool]] = {i: {} for i in ids}
    packs: dict[int, list[tuple[str, tuple[str, ...]]]] = {i: [] for i in ids}
    custom: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for row in session.exec(select(BotSkill).where(col(BotSkill.bot_id).in_(ids))).all():
            choices[row.bot_id][row.skill] = row.enabled
        for bot_id, pack in session.exec(
            select(BotSkillPack.bot_id, SkillPack)
            .join(SkillPack, col(BotSkillPack.pack_id) == col(SkillPack.id))
            .where(col(BotSkillPack.bot_id).in_(ids))
            .order_by(col(SkillPack.name))
        ).all():
            packs[bot_id].append((pack.name, tuple(pack.skills or ())))
        for bot_id, name in session.exec(
            select(CustomSkill.bot_id, CustomSkill.name)
            .where(col(CustomSkill.bot_id).in_(ids))
            .order_by(col(CustomSkill.name))
        ).all():
            custom[bot_id].append(name)
    return {i: SkillChoices(choices=choices[i], packs=tuple(packs[i]), custom=tuple(custom[i])) for i in ids}


def has_custom_skills(session: Session, bot_ids: Iterable[int]) -> bool:
    ids = list(bot_ids)
    return (
        bool(ids)
        and session.exec(select(CustomSkill.id).where(col(CustomSkill.bot_id).in_(ids)).limit(1)).first()
        is not None
    )
