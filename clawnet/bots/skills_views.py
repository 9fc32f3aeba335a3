"""What the Skills tab shows: the skills a bot's gateway offers with their state for the bot,
its packs and custom skills, and the skill packs (frozen view models)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clawnet.controlplane.gateway_skills import GatewaySkill, SkillReport
from clawnet.controlplane.skill_choices import SkillChoices

SOURCE_WORDS = {
    "openclaw-bundled": "OpenClaw",
    "openclaw-extra": "OpenClaw (extra)",
    "openclaw-workspace": "This bot (custom)",
    "openclaw-managed": "Gateway",
    "openclaw-custodian": "OpenClaw (custodian)",
}


@dataclass(frozen=True)
class SkillRowView:
    name: str
    description: str
    emoji: str
    source: str
    ready: bool  # its requirements are met on the gateway's host
    readiness: str  # "Ready", "Not ready", "Off on the gateway" or "Unknown" (not listed)
    needs: str  # what is missing on the gateway's host ("bin op, env X"), or ""
    requirements: str
    enabled: bool  # on for this bot in ClawNet's desired state
    visible: bool  # the gateway reports the bot's model sees it now
    choice: str  # "on" | "off" | "" (no own choice)
    packs: str  # the attached packs that bring it
    testid: str


@dataclass(frozen=True)
class PackView:
    id: int
    name: str
    description: str
    skills: str
    skill_count: int
    bots: str  # the bots it is attached to (those the viewer may see)
    bot_count: int
    attached: bool  # to the bot being looked at
    can_edit: bool


@dataclass(frozen=True)
class CustomSkillView:
    id: int
    name: str
    description: str
    size: str
    uploaded_by: str
    installed: bool


@dataclass(frozen=True)
class BotSkillsView:
    bot_id: int
    chosen: bool  # limited to a list (else OpenClaw's default: every eligible skill)
    effective: str  # the list the config carries, or ""
    gateway_note: str  # why the gateway's own report is missing, or ""
    rows: list[SkillRowView] = field(default_factory=list)
    packs: list[PackView] = field(default_factory=list)
    custom: list[CustomSkillView] = field(default_factory=list)


def _row(
    skill: GatewaySkill | None, name: str, state: SkillChoices, effective: tuple[str, ...] | None
) -> SkillRowView:
    choice = state.choices.get(name)
    if skill is None:
        return SkillRowView(
            name, "", "", "", False, "Unknown", "", "",
            bool(effective and name in effective), False,
            "" if choice is None else ("on" if choice else "off"),
            ", ".join(state.packs_of(name)), f"skill-row-{name}",
        )  # fmt: skip
    ready = skill.eligible and not skill.disabled
    readiness = "Off on the gateway" if skill.disabled else ("Ready" if skill.eligible else "Not ready")
    enabled = (name in effective) if effective is not None else ready
    return SkillRowView(
        name=name,
        description=skill.description,
        emoji=skill.emoji,
        source=SOURCE_WORDS.get(skill.source, skill.source),
        ready=ready,
        readiness=readiness,
        needs=", ".join(skill.missing),
        requirements=", ".join(skill.requirements) or "none",
        enabled=enabled,
        visible=skill.visible,
        choice="" if choice is None else ("on" if choice else "off"),
        packs=", ".join(state.packs_of(name)),
        testid=f"skill-row-{name}",
    )


def skill_rows(state: SkillChoices, report: SkillReport | None) -> list[SkillRowView]:
    """The gateway's skills (ready first, then by name), then those ClawNet names that the
    gateway does not list."""
    effective = state.effective()
    rows: list[SkillRowView] = []
    listed: set[str] = set()
    if report is not None:
        for s in sorted(report.skills, key=lambda s: (not s.eligible, s.name)):
            rows.append(_row(s, s.name, state, effective))
            listed.add(s.name)
    named = set(state.choices) | {n for _, skills in state.packs for n in skills} | set(state.custom)
    rows.extend(_row(None, n, state, effective) for n in sorted(named - listed))
    return rows
