"""Settings, "Rate limits" (admins): how many chat messages, bot starts/stops/restarts, imports,
session changes and API calls one person (or API token) may make in a window. The limits are
enforced where each action is done (`security.rate_limit`); this is where an admin reads and
changes them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.errors import UserError
from clawnet.models import RateLimitSetting, utcnow
from clawnet.security.permissions import Action, Principal, require
from clawnet.security.rate_limit import (
    DEFAULT_LIMITS,
    LABELS,
    Limit,
    LimitAction,
    check_limit,
    rate_limiter,
    wait_phrase,
)


@dataclass(frozen=True)
class LimitRow:
    action: str  # LimitAction value; form fields are "<action>_count" and "<action>_window"
    label: str
    count: int
    window_s: int
    default: str  # "30 per 1 minute"
    changed: bool


def describe(limit: Limit) -> str:
    return f"{limit.count:,} per {wait_phrase(limit.window_s)}"


def _rows(limits: Mapping[LimitAction, Limit]) -> list[LimitRow]:
    return [
        LimitRow(
            action=a.value,
            label=LABELS[a],
            count=limits[a].count,
            window_s=limits[a].window_s,
            default=describe(DEFAULT_LIMITS[a]),
            changed=limits[a] != DEFAULT_LIMITS[a],
        )
        for a in LimitAction
    ]


def parse_limits(values: Mapping[str, str]) -> dict[LimitAction, Limit]:
    """The form's limits; UserError with a message per wrong field."""
    errors: dict[str, str] = {}
    found: dict[LimitAction, Limit] = {}
    for action in LimitAction:
        numbers: list[int] = []
        for part in ("count", "window"):
            name = f"{action.value}_{part}"
            raw = str(values.get(name, "")).strip().replace(",", "")
            if not raw.isdigit():
                errors[name] = "Give a whole number." if raw else "Required."
                continue
            numbers.append(int(raw))
        if len(numbers) == 2:
            count, window_s = numbers
            if problem := check_limit(count, 1):
                errors[f"{action.value}_count"] = problem
            elif problem := check_limit(1, window_s):
                errors[f"{action.value}_window"] = problem
            else:
                found[action] = Limit(count, window_s)
    if errors:
        raise UserError("Some limits are not valid; see the marked fields.", field_errors=errors)
    return found


class RateLimits(BotsBase):
    async def rate_limits(self, actor: Principal | None) -> list[LimitRow]:
        def check(session: Session) -> None:
            require(session, actor, Action.MANAGE_LIMITS)

        await self._db(check)
        limiter = rate_limiter(self.settings)
        limiter.forget_cached()
        return _rows(await asyncio.to_thread(limiter.limits))  # reads the database

    async def save_rate_limits(self, actor: Principal | None, values: Mapping[str, str]) -> list[LimitRow]:
        """Store the limits an admin set (a limit back at its default is forgotten); every
        worker uses them within 10 seconds."""

        def save(session: Session) -> None:
            who = require(session, actor, Action.MANAGE_LIMITS)
            wanted = parse_limits(values)
            rows = {r.action: r for r in session.exec(select(RateLimitSetting)).all()}
            before = {a: describe(Limit(r.max_count, r.window_s)) for a, r in rows.items()}
            for action, limit in wanted.items():
                row = rows.get(action.value)
                if limit == DEFAULT_LIMITS[action]:
                    if row is not None:
                        session.delete(row)
                    continue
                row = row or RateLimitSetting(action=action.value, max_count=0, window_s=0)
                row.max_count, row.window_s = limit.count, limit.window_s
                row.updated_by, row.updated_at = who.user_id, utcnow()
                session.add(row)
            after = {a.value: describe(limit) for a, limit in wanted.items() if limit != DEFAULT_LIMITS[a]}
            audit.record(
                session, who, "limits.update", "settings", "rate_limits", "changed the rate limits",
                before=before, after=after,
            )  # fmt: skip

        await self._db(save)
        limiter = rate_limiter(self.settings)
        limiter.forget_cached()
        return _rows(await asyncio.to_thread(limiter.limits))  # reads the database
