"""Budget enforcement: compare usage to limits, announce crossings, pause and resume bots.

Runs once, on the leader (the controller owns a `BudgetEnforcer`): after each recorded
assistant message of a bot with a budget, and on a slow pass (period resets, and the gateways'
own `usage.cost` figures). Crossing 80% publishes a `Kind.BUDGET` warning, 100% pauses the
bot(s) the budget covers, and dropping back under (a raised limit, a new period) resumes them;
each crossing is published once (`Budget.last_threshold`). Pausing only writes `BotPause`: the
config renderer points a paused agent at the paused model and the reconciler applies it as a
hot change (same gateway process; turns already running finish on their model).

`evaluate`, `remove_budget` and `set_kill_switch` are plain functions on a DB session, so a
service changing a limit evaluates at once in its own transaction (the stored crossing keeps
events unique). A removed budget that had announced 80% or 100% announces 0 (its alerts
resolve) and resumes what it paused.

The kill switch records its scope on the pause: an owner's resume lifts only what an owner's
switch paused; an admin's fleet resume lifts every kill-switch pause (fleet and owner).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from clawnet.aio import wait_for
from clawnet.controlplane.budget_rules import (
    SPENT_AT,
    KillScope,
    PauseReason,
    Scope,
    Usage,
    budget_bot_ids,
    budgets_for_bot,
    level,
    period_days,
    period_start,
    usage_for,
)
from clawnet.controlplane.db_runner import DbRunner
from clawnet.controlplane.gateway_usage import UsageApi
from clawnet.controlplane.links import GatewayLink, GatewayLinks
from clawnet.controlplane.protocol import GatewayError
from clawnet.controlplane.tasks import stop_loops
from clawnet.events import EventBus, Kind
from clawnet.models import DEFAULT_PAUSE_REPLY, Bot, BotPause, Budget, utcnow

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0
USAGE_CONCURRENCY = 4  # usage.cost calls in flight per gateway
USAGE_TIMEOUT_S = 10.0  # per usage.cost call


@dataclass
class Evaluation:
    """What a check found: crossings to publish, and whether a bot's pause state changed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    paused_changed: set[int] = field(default_factory=set)

    def merge(self, other: Evaluation) -> Evaluation:
        self.events.extend(other.events)
        self.paused_changed |= other.paused_changed
        return self


def _event(b: Budget, threshold: int, used: float, limit: float) -> dict[str, Any]:
    return {
        "owner_id": b.owner_id,
        "bot_id": b.bot_id if b.scope == Scope.BOT.value else None,
        "period": b.period,
        "metric": b.metric,
        "threshold": threshold,
        "used": round(used, 6),
        "limit": limit,
    }


def _spent_budget(s: Session, bot: Bot, now: datetime) -> int | None:
    for b in budgets_for_bot(s, bot):
        current = b.period_start is None or b.period_start >= period_start(b.period, now)
        if b.last_threshold >= SPENT_AT and b.limit_amount > 0 and current:
            return b.id
    return None


def pause_of(s: Session, bot_id: int) -> BotPause:
    return s.get(BotPause, bot_id) or BotPause(bot_id=bot_id)


def _settle_pause(s: Session, bot: Bot, now: datetime) -> bool:
    """Pause or resume a bot for its budgets (a kill switch wins). True when it changed."""
    assert bot.id is not None
    pause = pause_of(s, bot.id)
    if pause.reason == PauseReason.KILL_SWITCH.value:
        return False
    spent = _spent_budget(s, bot, now)
    want = PauseReason.BUDGET.value if spent is not None else PauseReason.NONE.value
    changed = pause.reason != want
    if changed or pause.budget_id != spent:
        pause.reason, pause.budget_id = want, spent
        pause.since = (pause.since if not changed else now) if spent is not None else None
        pause.updated_at = now
        s.add(pause)
    return changed


def evaluate(s: Session, budgets: Iterable[Budget], now: datetime | None = None) -> Evaluation:
    """Check budgets against usage: record and return each crossing, and settle the pause state
    of the bots a crossing covers (nothing else can change it)."""
    now = now or utcnow()
    out = Evaluation()
    usages: dict[tuple[tuple[int, ...], str], Usage] = {}  # budgets over the same bots share a sum
    crossed: set[int] = set()  # only a crossing changes whose budget is spent
    covered: dict[tuple[str, int | None, int], list[int]] = {}
    for b in budgets:
        target = (b.scope, b.bot_id, b.owner_id)
        if target not in covered:
            covered[target] = budget_bot_ids(s, b)
        ids = covered[target]
        key = (tuple(ids), b.period)
        if key not in usages:
            usages[key] = usage_for(s, ids, b.period, now)
        used = usages[key].of(b.metric)
        reached = level(used, b.limit_amount)
        start = period_start(b.period, now)
        if b.period_start != start:  # written only when it changes: a check is a read
            b.period_start = start
            s.add(b)
        if reached != b.last_threshold:
            b.last_threshold = reached
            crossed.update(ids)
            out.events.append(_event(b, reached, used, b.limit_amount))
        s.add(b)
    s.flush()
    for bot_id in sorted(crossed):
        bot = s.get(Bot, bot_id)
        if bot is not None and _settle_pause(s, bot, now):
            out.paused_changed.add(bot_id)
    return out


def remove_budget(s: Session, budget: Budget, now: datetime | None = None) -> Evaluation:
    """Delete a budget (its limit was cleared). If it had announced 80% or 100%, announce 0 so
    its alerts resolve; the bots it covers are settled without it (resumed if it paused them)."""
    now = now or utcnow()
    out = Evaluation()
    ids = budget_bot_ids(s, budget)
    if budget.last_threshold > 0:
        used = usage_for(s, ids, budget.period, now).of(budget.metric)
        out.events.append(_event(budget, 0, used, 0.0))
    s.delete(budget)
    s.flush()
    for bot_id in ids:
        bot = s.get(Bot, bot_id)
        if bot is not None and _settle_pause(s, bot, now):
            out.paused_changed.add(bot_id)
    return out


def check_bot(s: Session, bot_id: int) -> Evaluation:
    """The check after a bot's turn: its own budgets and its owner's (nothing if none)."""
    bot = s.get(Bot, bot_id)
    if bot is None:
        return Evaluation()
    budgets = budgets_for_bot(s, bot)
    return evaluate(s, budgets) if budgets else Evaluation()


def check_all(s: Session) -> Evaluation:
    return evaluate(s, s.exec(select(Budget)).all())


def _lifts(scope: KillScope, pause: BotPause) -> bool:
    """Whether a resume of `scope` lifts this kill-switch pause: the fleet's lifts every one,
    an owner's only an owner's (an admin's fleet pause stays until the fleet resumes)."""
    return scope is KillScope.FLEET or pause.kill_scope != KillScope.FLEET.value


def set_kill_switch(
    s: Session, bot_ids: Iterable[int], on: bool, scope: KillScope | str = "owner"
) -> Evaluation:
    """Pause (on) or resume the bots by an owner's or the fleet's kill switch; resumed bots
    still stay paused for a spent budget. A fleet pause takes over an owner's (only the fleet's
    resume lifts it); an owner's resume leaves a fleet pause alone."""
    scope = KillScope(scope)
    now = utcnow()
    out = Evaluation()
    for bot_id in bot_ids:
        pause = pause_of(s, bot_id)
        killed = pause.reason == PauseReason.KILL_SWITCH.value
        if on and not killed:
            pause.reason, pause.since, pause.budget_id = PauseReason.KILL_SWITCH.value, now, None
            pause.kill_scope = scope.value
        elif on and scope is KillScope.FLEET and pause.kill_scope != scope.value:
            pause.kill_scope, pause.updated_at = scope.value, now  # still paused: no change to apply
            s.add(pause)
            continue
        elif not on and killed and _lifts(scope, pause):
            pause.reason, pause.since, pause.kill_scope = PauseReason.NONE.value, None, ""
        else:
            continue
        pause.updated_at = now
        s.add(pause)
        s.flush()
        out.paused_changed.add(bot_id)
        bot = s.get(Bot, bot_id)
        if not on and bot is not None:
            _settle_pause(s, bot, now)
    return out


def publish(bus: EventBus, evaluation: Evaluation, kick: Callable[[], None]) -> None:
    for event in evaluation.events:
        bus.publish(Kind.BUDGET, event, bot_id=event["bot_id"])
    if evaluation.paused_changed:
        for bot_id in sorted(evaluation.paused_changed):
            bus.publish(Kind.FLEET_CHANGED, {"paused_changed": True}, bot_id=bot_id)
        kick()


def pause_reply(s: Session, model_id: str) -> str:
    """The reply of the paused model for `bot-<id>`."""
    bot_id = model_id.rsplit("/", 1)[-1].removeprefix("bot-")
    pause = s.get(BotPause, int(bot_id)) if bot_id.isdigit() else None
    return (pause.reply if pause is not None else "") or DEFAULT_PAUSE_REPLY


def _bots_with_budgets(s: Session) -> dict[int, str]:
    """bot id -> agent id of every bot some budget covers."""
    out: dict[int, str] = {}
    for b in s.exec(select(Budget)).all():
        for bot_id in budget_bot_ids(s, b):
            bot = s.get(Bot, bot_id)
            if bot is not None:
                out[bot_id] = bot.agent_id
    return out


class BudgetEnforcer:
    """The leader's budget checks (after turns and on a slow pass)."""

    def __init__(self, db: DbRunner, bus: EventBus, links: GatewayLinks, kick: Callable[[], None]) -> None:
        self.db = db
        self.bus = bus
        self.links = links
        self.kick = kick
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def after_message(self, bot_id: int) -> None:
        """Called when an assistant message of the bot was stored."""
        future = self.db.submit(lambda s: check_bot(s, bot_id))
        future.add_done_callback(self._published)

    def _published(self, future: asyncio.Future[Evaluation]) -> None:
        if future.exception() is not None:
            log.error("budget check failed: %s", future.exception())
            return
        publish(self.bus, future.result(), self.kick)

    async def paused_reply(self, model_id: str) -> str:
        try:
            return await self.db.run(lambda s: pause_reply(s, model_id))
        except Exception:
            log.exception("reading a pause reply failed")
            return DEFAULT_PAUSE_REPLY

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="budget-sweep")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loops([self._task])
        self._task = None

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.sweep()
            except Exception:
                log.exception("budget sweep failed")
            await asyncio.sleep(SWEEP_INTERVAL_S)

    async def sweep(self) -> Evaluation:
        """Refresh the gateways' figures, then check every budget (a new period resumes)."""
        await self.refresh_gateway_usage()
        evaluation = await self.db.run(check_all)
        publish(self.bus, evaluation, self.kick)
        return evaluation

    async def refresh_gateway_usage(self) -> None:
        """Fetch each covered bot's day and month figures: the gateways at once, and within a
        gateway at most USAGE_CONCURRENCY agents at a time (each call USAGE_TIMEOUT_S at most)."""
        covered = await self.db.run(_bots_with_budgets)
        now = utcnow()
        figures: dict[int, tuple[float, int, float, int]] = {}

        async def fetch(
            link: GatewayLink, api: UsageApi, gate: asyncio.Semaphore, agent_id: str, bot_id: int
        ) -> None:
            async with gate:
                try:
                    day = await wait_for(api.agent_usage(agent_id, *period_days("day", now)), USAGE_TIMEOUT_S)
                    month = await wait_for(
                        api.agent_usage(agent_id, *period_days("month", now)), USAGE_TIMEOUT_S
                    )
                except (GatewayError, TimeoutError) as exc:
                    log.warning("gateway %s: usage.cost %s failed: %r", link.gateway_id, agent_id, exc)
                    return
            figures[bot_id] = (day.cost_usd, day.tokens, month.cost_usd, month.tokens)

        calls: list[Coroutine[Any, Any, None]] = []
        for link in self.links.all():
            if not link.is_connected:
                continue
            api, gate = UsageApi(link.api), asyncio.Semaphore(USAGE_CONCURRENCY)
            calls.extend(
                fetch(link, api, gate, agent_id, bot_id)
                for agent_id, bot_id in list(link.agent_bots.items())
                if bot_id in covered
            )
        if calls:
            await asyncio.gather(*calls)
        if figures:
            await self.db.run(lambda s: _store_figures(s, figures))


def _store_figures(s: Session, figures: dict[int, tuple[float, int, float, int]]) -> None:
    now = utcnow()
    for bot_id, (day_cost, day_tokens, month_cost, month_tokens) in figures.items():
        if s.get(Bot, bot_id) is None:
            continue
        pause = pause_of(s, bot_id)
        pause.gateway_cost_day, pause.gateway_tokens_day = day_cost, day_tokens
        pause.gateway_cost_month, pause.gateway_tokens_month = month_cost, month_tokens
        pause.gateway_usage_at = now
        s.add(pause)


def paused_bot_ids(s: Session, bot_ids: Iterable[int]) -> dict[int, str]:
    """bot id -> pause reason, for the paused ones among `bot_ids`."""
    ids = list(bot_ids)
    if not ids:
        return {}
    rows = s.exec(select(BotPause).where(col(BotPause.bot_id).in_(ids), BotPause.reason != "none")).all()
    return {p.bot_id: p.reason for p in rows}


def settle_bots(s: Session, bot_ids: Iterable[int]) -> set[int]:
    """Settle the pause state of these bots against their budgets; the ones that changed."""
    now = utcnow()
    changed: set[int] = set()
    for bot_id in bot_ids:
        bot = s.get(Bot, bot_id)
        if bot is not None and _settle_pause(s, bot, now):
            changed.add(bot_id)
    return changed
