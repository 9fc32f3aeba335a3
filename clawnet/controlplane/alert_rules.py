"""Alert rules: their defaults, each owner's overrides, quiet hours and cooldown, and the
conditions the database shows right now (one `Condition` per rule and subject that holds).

Pure functions over a session: the alert monitor (`controlplane.alerts`) calls `conditions` on
every pass and opens or resolves alert rows to match. Budget alerts are not here: they follow the
budget events (`Kind.BUDGET`) the budgets publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from clawnet.controlplane.backup_schedule import latest_run, overdue_at, settings_row
from clawnet.enums import ChannelStatus, DesiredStatus, GatewayStatus, Role, TurnStatus
from clawnet.models import AccessRequest, Bot, BotChannel, ChatTurn, Gateway, User

ERROR_WINDOW = timedelta(minutes=15)
ERROR_MIN_TURNS = 4  # fewer finished turns than this say nothing about a rate
REFUSED_PREFIXES = ("The gateway refused the configuration change",)
DOWN_STATES = {
    GatewayStatus.RESTARTING.value,
    GatewayStatus.ERROR.value,
    GatewayStatus.UNRESPONSIVE.value,
    GatewayStatus.CRASH_LOOP.value,
}
# On the way back up (or not yet started): still down once it was seen down, not on a first start.
STILL_DOWN_STATES = {GatewayStatus.STOPPED.value, GatewayStatus.STARTING.value}


@dataclass(frozen=True)
class RuleSpec:
    name: str
    label: str
    threshold: float | None  # default; None: the rule has no threshold
    unit: str  # what the threshold counts ("s", "min", "%")
    urgent: bool
    admin_only: bool = False  # about the whole installation: only admins receive it


RULES: dict[str, RuleSpec] = {
    r.name: r
    for r in (
        RuleSpec("gateway_down", "Gateway down longer than", 60, "s", True),
        RuleSpec("crash_loop", "Gateway in a crash loop", None, "", True),
        RuleSpec("channel_down", "Channel disconnected or logged out longer than", 120, "s", False),
        RuleSpec("budget", "Budget at 80% / 100%", None, "", False),
        RuleSpec("error_rate", "Failed turns in 15 minutes above", 50, "%", False),
        RuleSpec("config_refused", "Configuration refused by OpenClaw", None, "", False),
        RuleSpec("access_waiting", "Access request waiting longer than", 30, "min", False),
        RuleSpec("backup_failed", "Backup failed", None, "", True, admin_only=True),
        RuleSpec("backup_overdue", "No successful backup within", 2, "intervals", False, admin_only=True),
    )
}


@dataclass(frozen=True)
class Rule:
    name: str
    enabled: bool
    threshold: float


def effective_rules(overrides: dict[str, Any] | None) -> dict[str, Rule]:
    """Each rule with the owner's overrides over its defaults (bad values fall back)."""
    out: dict[str, Rule] = {}
    for name, spec in RULES.items():
        mine = (overrides or {}).get(name) or {}
        enabled = mine.get("enabled", True)
        threshold = mine.get("threshold", spec.threshold)
        try:
            value = float(threshold) if threshold is not None else 0.0
        except (TypeError, ValueError):
            value = float(spec.threshold or 0)
        out[name] = Rule(name, bool(enabled), max(value, 0.0))
    return out


def in_quiet_hours(now: datetime, start_min: int, end_min: int) -> bool:
    """Whether `now` (UTC) falls in the quiet hours [start, end) (minutes of the day; may wrap
    midnight; start == end means no quiet hours)."""
    if start_min == end_min:
        return False
    minute = now.hour * 60 + now.minute
    if start_min < end_min:
        return start_min <= minute < end_min
    return minute >= start_min or minute < end_min


def cooldown_over(last_notified: datetime | None, now: datetime, cooldown_s: int) -> bool:
    """Whether a new alert of a rule may go out, the rule's last one having gone at `last_notified`.
    A last one "in the future" means the clock was stepped back: the cooldown counts as over (one
    early repeat at most, rather than silence until the clock catches up)."""
    if last_notified is None:
        return True
    elapsed = (now - last_notified).total_seconds()
    return elapsed < 0 or elapsed >= cooldown_s


@dataclass(frozen=True)
class Condition:
    owner_id: int
    rule: str
    subject: str
    title: str
    detail: str
    urgent: bool
    bot_id: int | None = None
    gateway_id: int | None = None


def _gateway_owners(s: Session, gw: Gateway) -> set[int]:
    owners = set(s.exec(select(Bot.owner_id).where(Bot.gateway_id == gw.id)).all())
    if gw.owner_id is not None:
        owners.add(gw.owner_id)
    return owners


def conditions(
    s: Session,
    now: datetime,
    rules_of: dict[int, dict[str, Rule]],
    down_since: dict[int, datetime],
) -> list[Condition]:
    """Every rule condition that holds now. `rules_of(owner)` gives an owner's rules (owners not in
    it get the defaults); `down_since` is kept by the caller: when each gateway was first seen down
    (updated here)."""
    defaults = effective_rules(None)
    out: list[Condition] = []

    def rule(owner: int, name: str) -> Rule | None:
        r = rules_of.get(owner, defaults)[name]
        return r if r.enabled else None

    for gw in s.exec(select(Gateway).where(Gateway.desired_status == DesiredStatus.RUNNING.value)).all():
        assert gw.id is not None
        owners = _gateway_owners(s, gw)
        if gw.actual_status in DOWN_STATES or (gw.actual_status in STILL_DOWN_STATES and gw.id in down_since):
            since = down_since.setdefault(gw.id, now)
            if (
                gw.last_exit_at is not None
                and gw.last_exit_at < since
                and gw.last_exit_at > since - timedelta(minutes=10)
            ):
                since = down_since[gw.id] = gw.last_exit_at
            down_s = (now - since).total_seconds()
            for owner in owners:
                if (r := rule(owner, "gateway_down")) and down_s >= r.threshold:
                    detail = gw.status_detail or gw.last_error or gw.actual_status
                    out.append(
                        Condition(
                            owner,
                            "gateway_down",
                            f"gateway:{gw.id}",
                            f"Gateway {gw.name} is down",
                            f"{gw.actual_status}: {detail}"[:2000],
                            True,
                            gateway_id=gw.id,
                        )
                    )
        else:
            down_since.pop(gw.id, None)
        if gw.actual_status == GatewayStatus.CRASH_LOOP.value:
            for owner in owners:
                if rule(owner, "crash_loop"):
                    out.append(
                        Condition(
                            owner,
                            "crash_loop",
                            f"gateway:{gw.id}",
                            f"Gateway {gw.name} is in a crash loop",
                            gw.last_error[:2000],
                            True,
                            gateway_id=gw.id,
                        )
                    )
        refused = gw.last_error.startswith(REFUSED_PREFIXES) or gw.status_detail.startswith(REFUSED_PREFIXES)
        if refused and gw.applied_config_hash != gw.desired_config_hash:
            for owner in owners:
                if rule(owner, "config_refused"):
                    out.append(
                        Condition(
                            owner,
                            "config_refused",
                            f"gateway:{gw.id}",
                            f"OpenClaw refused a configuration change on {gw.name}",
                            gw.last_error[:2000],
                            False,
                            gateway_id=gw.id,
                        )
                    )

    rows = s.exec(
        select(BotChannel, Bot, Gateway)
        .join(Bot, col(Bot.id) == BotChannel.bot_id)
        .join(Gateway, col(Gateway.id) == Bot.gateway_id)
        .where(
            BotChannel.enabled == True,  # noqa: E712
            col(BotChannel.status).in_([ChannelStatus.DISCONNECTED.value, ChannelStatus.ERROR.value]),
            Bot.desired_status == DesiredStatus.RUNNING.value,
            Gateway.actual_status == GatewayStatus.RUNNING.value,
        )
    ).all()
    for ch, bot, _gw in rows:
        r = rule(bot.owner_id, "channel_down")
        if r and (now - ch.updated_at).total_seconds() >= r.threshold:
            out.append(
                Condition(
                    bot.owner_id,
                    "channel_down",
                    f"channel:{ch.id}",
                    f"{bot.name}'s {ch.type} channel is {ch.status}",
                    (ch.last_error or ch.status)[:2000],
                    False,
                    bot_id=bot.id,
                )
            )

    since = now - ERROR_WINDOW
    turns = s.exec(
        select(Bot.owner_id, ChatTurn.status)
        .join(Bot, col(Bot.id) == ChatTurn.bot_id)
        .where(
            ChatTurn.started_at >= since,
            col(ChatTurn.status).in_([TurnStatus.DONE.value, TurnStatus.FAILED.value]),
        )
    ).all()
    counts: dict[int, list[int]] = {}
    for owner, status in turns:
        c = counts.setdefault(owner, [0, 0])
        c[0] += 1
        c[1] += status == TurnStatus.FAILED.value
    for owner, (total, failed) in counts.items():
        r = rule(owner, "error_rate")
        if r and total >= ERROR_MIN_TURNS and failed * 100 / total > r.threshold:
            out.append(
                Condition(
                    owner,
                    "error_rate",
                    "turns",
                    f"{failed} of {total} turns failed in 15 minutes",
                    f"More than {r.threshold:g}% of your bots' turns failed.",
                    False,
                )
            )

    # An expired request is no longer waiting (the access page hides it too).
    waiting = s.exec(
        select(AccessRequest, Bot)
        .join(Bot, col(Bot.id) == AccessRequest.bot_id)
        .where(col(AccessRequest.expires_at) > now)
    ).all()
    oldest: dict[tuple[int, int], tuple[int, datetime, str]] = {}
    for req, bot in waiting:
        assert bot.id is not None
        n, first, name = oldest.get((bot.owner_id, bot.id), (0, req.requested_at, bot.name))
        oldest[(bot.owner_id, bot.id)] = (n + 1, min(first, req.requested_at), name)
    for (owner, bot_id), (n, first, name) in oldest.items():
        r = rule(owner, "access_waiting")
        if r and (now - first).total_seconds() >= r.threshold * 60:
            out.append(
                Condition(
                    owner,
                    "access_waiting",
                    f"access:{bot_id}",
                    f"{n} access request{'s' if n != 1 else ''} waiting for {name}",
                    "Someone asked to talk to your bot and is waiting for your answer.",
                    False,
                    bot_id=bot_id,
                )
            )
    out.extend(backup_conditions(s, now, rule))
    return out


def backup_conditions(s: Session, now: datetime, rule: Callable[[int, str], Rule | None]) -> list[Condition]:
    """For each active admin: the last finished backup failed (resolves when a later one
    succeeds), or the schedule is on and no backup succeeded within its interval x the threshold."""
    admins = s.exec(select(User.id).where(User.role == Role.ADMIN.value, User.is_active == True)).all()  # noqa: E712
    last = latest_run(s, finished=True)
    cfg = settings_row(s)
    out: list[Condition] = []
    for admin in (a for a in admins if a is not None):
        if last is not None and not last.ok and rule(admin, "backup_failed"):
            when = last.finished_at or last.started_at
            detail = f"{when:%Y-%m-%d %H:%M} UTC: {last.error or 'no reason given.'}"
            out.append(Condition(admin, "backup_failed", "backup", "A backup failed", detail, True))
        if (r := rule(admin, "backup_overdue")) and (due := overdue_at(cfg, s, r.threshold)) and now >= due:
            hours = cfg.interval_hours if cfg is not None else 0
            out.append(
                Condition(
                    admin,
                    "backup_overdue",
                    "backup",
                    "No successful backup for a while",
                    f"Backups are scheduled every {hours} h, and none succeeded in the last {r.threshold * hours:g} h.",
                    False,
                )
            )
    return out
