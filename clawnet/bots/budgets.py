"""Budgets and the kill switch, for the pages.

A bot's budgets: seen by whoever may see the bot, set by those who may configure it. An
owner's budgets (over all their bots): set by that owner (operators and admins own bots), and
shown on a bot's tab only to its owner and admins (they tell the owner's total spend). The
kill switch pauses every bot of the acting owner, or for an admin the whole fleet; an owner's
resume lifts only the owner's pause, the fleet's resume every kill-switch pause. Changes are
evaluated at once (a raised limit resumes a paused bot) and audited; the control plane makes
the gateways match (a hot config change, no restart).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clawnet import audit
from clawnet.bots.base import BotsBase
from clawnet.bots.budget_views import FIELDS, PAUSE_LABELS, BudgetRow, BudgetsView, budget_row, short_usage
from clawnet.controlplane.budget_rules import KillScope, Scope, usage_for
from clawnet.controlplane.budgets import (
    Evaluation,
    evaluate,
    pause_of,
    paused_bot_ids,
    publish,
    remove_budget,
    set_kill_switch,
    settle_bots,
)
from clawnet.errors import NotFound, PermissionDenied, UserError
from clawnet.models import DEFAULT_PAUSE_REPLY, Bot, Budget, utcnow
from clawnet.security.permissions import Action, Principal, can, require, role_allows
from clawnet.security.sanitize import clean_text

MAX_REPLY = 1000


def parse_limits(values: dict[str, str]) -> tuple[dict[str, float | None], dict[str, str]]:
    """The form's limits (None: no limit) and what is wrong with each field."""
    limits: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for name, _period, metric in FIELDS:
        raw = str(values.get(name) or "").strip().lstrip("$").replace(",", "")
        if not raw:
            limits[name] = None
            continue
        try:
            number = float(raw)
        except ValueError:
            errors[name] = "Enter a number, or leave it empty for no limit."
            continue
        if number <= 0 or number != number or number > 1e12:
            errors[name] = "Enter a limit above 0, or leave it empty for no limit."
        elif metric == "tokens" and number != int(number):
            errors[name] = "Tokens are whole numbers."
        else:
            limits[name] = number
    return limits, errors


def _find(
    s: Session, scope: str, owner_id: int, bot_id: int | None, period: str, metric: str
) -> Budget | None:
    q = select(Budget).where(
        Budget.scope == scope, Budget.owner_id == owner_id, Budget.period == period, Budget.metric == metric
    )
    q = q.where(Budget.bot_id == bot_id) if bot_id is not None else q.where(col(Budget.bot_id).is_(None))
    return s.exec(q).first()


def _rows(s: Session, scope: str, owner_id: int, bot_id: int | None, bot_ids: list[int]) -> list[BudgetRow]:
    now = utcnow()
    usage = {p: usage_for(s, bot_ids, p, now) for p in ("day", "month")}
    return [
        budget_row(
            name, period, metric, _find(s, scope, owner_id, bot_id, period, metric), usage[period], scope
        )
        for name, period, metric in FIELDS
    ]


def _owner_bot_ids(s: Session, owner_id: int) -> list[int]:
    return [i for i in s.exec(select(Bot.id).where(Bot.owner_id == owner_id)).all() if i is not None]


def _save(
    s: Session,
    actor: Principal,
    scope: str,
    owner_id: int,
    bot_id: int | None,
    limits: dict[str, float | None],
) -> tuple[Evaluation, dict[str, object]]:
    """Store the limits: a cleared one removes its budget (announcing 0 and resuming what it
    paused), the others are created or updated, then checked. One row per target: a budget
    another save created meanwhile (the unique constraint and index) is updated instead."""
    touched: list[Budget] = []
    removed = Evaluation()
    after: dict[str, object] = {}
    for name, period, metric in FIELDS:
        row = _find(s, scope, owner_id, bot_id, period, metric)
        limit = limits.get(name)
        after[name] = limit
        if limit is None:
            if row is not None:
                removed.merge(remove_budget(s, row))
            continue
        if row is None:
            row = Budget(scope=scope, owner_id=owner_id, bot_id=bot_id, period=period, metric=metric)
            row.limit_amount, row.updated_by_id = limit, actor.user_id
            try:
                with s.begin_nested():
                    s.add(row)
            except IntegrityError:  # created meanwhile: update that one
                row = _find(s, scope, owner_id, bot_id, period, metric)
                if row is None:
                    raise
        row.limit_amount, row.updated_by_id, row.updated_at = limit, actor.user_id, utcnow()
        s.add(row)
        touched.append(row)
    s.flush()
    return removed.merge(evaluate(s, touched)), after


def _bot_view(s: Session, actor: Principal, bot_id: int) -> BudgetsView:
    principal = require(s, actor, Action.VIEW_BOT, bot_id)
    bot = s.get(Bot, bot_id)
    if bot is None:
        raise NotFound("This bot does not exist.")
    pause = pause_of(s, bot_id)
    owner_rows: list[BudgetRow] = []
    if principal.user_id == bot.owner_id or principal.is_admin:  # the owner's total spend: theirs
        ids = _owner_bot_ids(s, bot.owner_id)
        owner_rows = [r for r in _rows(s, Scope.OWNER.value, bot.owner_id, None, ids) if r.limit]
    return BudgetsView(
        bot_id=bot_id,
        rows=_rows(s, Scope.BOT.value, bot.owner_id, bot_id, [bot_id]),
        owner_rows=owner_rows,
        paused=PAUSE_LABELS.get(pause.reason, ""),
        reply=pause.reply or DEFAULT_PAUSE_REPLY,
        can_edit=can(s, actor, Action.CONFIGURE_BOT, bot_id),
    )


def _may_own(actor: Principal | None) -> Principal:
    if actor is None or not actor.is_active:
        raise PermissionDenied("Sign in to do that.")
    if not role_allows(actor.role, Action.CREATE_BOT):
        raise PermissionDenied("Only operators and admins own bots and their budgets.")
    return actor


class Budgets(BotsBase):
    async def bot_budgets(self, actor: Principal | None, bot_id: int) -> BudgetsView:
        return await self._db(lambda s: _bot_view(s, actor, int(bot_id)))  # type: ignore[arg-type]

    async def save_bot_budgets(
        self, actor: Principal | None, bot_id: int, values: dict[str, str]
    ) -> BudgetsView:
        bot_id = int(bot_id)
        limits, errors = parse_limits(values)
        reply = clean_text(str(values.get("reply") or "")).strip()
        if len(reply) > MAX_REPLY:
            errors["reply"] = f"Keep the reply under {MAX_REPLY} characters."

        def save(s: Session) -> tuple[BudgetsView, Evaluation]:
            principal = require(s, actor, Action.CONFIGURE_BOT, bot_id)
            bot = s.get(Bot, bot_id)
            if bot is None:
                raise NotFound("This bot does not exist.")
            if errors:
                raise UserError(field_errors=errors)
            evaluation, after = _save(s, principal, Scope.BOT.value, bot.owner_id, bot_id, limits)
            pause = pause_of(s, bot_id)
            pause.reply = "" if reply == DEFAULT_PAUSE_REPLY else reply
            s.add(pause)
            audit.record(
                s, principal, "budget.set", "bot", bot_id, f"Set the budgets of {bot.name}", after=after
            )
            evaluation.paused_changed |= settle_bots(s, [bot_id])
            return _bot_view(s, principal, bot_id), evaluation

        view, evaluation = await self._db(save)
        publish(self.bus, evaluation, self.control.kick)
        self._changed(bot_id)
        return view

    async def owner_budgets(self, actor: Principal | None) -> BudgetsView:
        principal = _may_own(actor)

        def read(s: Session) -> BudgetsView:
            ids = _owner_bot_ids(s, principal.user_id)
            return BudgetsView(0, _rows(s, Scope.OWNER.value, principal.user_id, None, ids), can_edit=True)

        return await self._db(read)

    async def save_owner_budgets(self, actor: Principal | None, values: dict[str, str]) -> BudgetsView:
        principal = _may_own(actor)
        limits, errors = parse_limits(values)
        if errors:
            raise UserError(field_errors=errors)

        def save(s: Session) -> tuple[BudgetsView, Evaluation]:
            evaluation, after = _save(s, principal, Scope.OWNER.value, principal.user_id, None, limits)
            audit.record(
                s, principal, "budget.set", "owner", principal.user_id, "Set owner budgets", after=after
            )
            ids = _owner_bot_ids(s, principal.user_id)
            evaluation.paused_changed |= settle_bots(s, ids)
            rows = _rows(s, Scope.OWNER.value, principal.user_id, None, ids)
            return BudgetsView(0, rows, can_edit=True), evaluation

        view, evaluation = await self._db(save)
        publish(self.bus, evaluation, self.control.kick)
        self._changed(None)
        return view

    async def kill_switch(self, actor: Principal | None, on: bool, *, fleet: bool = False) -> int:
        """Pause (on) or resume every bot of the acting owner, or of the fleet (admins).
        An owner's resume lifts only an owner's pause (a fleet pause stays); the fleet's resume
        lifts every kill-switch pause. Returns how many bots changed."""

        def flip(s: Session) -> Evaluation:
            principal = _may_own(actor)
            if fleet and not principal.is_admin:
                raise PermissionDenied("Only admins can pause the whole fleet.")
            q = select(Bot.id) if fleet else select(Bot.id).where(Bot.owner_id == principal.user_id)
            ids = [i for i in s.exec(q).all() if i is not None]
            evaluation = set_kill_switch(s, ids, bool(on), KillScope.FLEET if fleet else KillScope.OWNER)
            what = ("fleet" if fleet else "owner", principal.user_id)
            action = "kill_switch.on" if on else "kill_switch.off"
            summary = f"{'Paused' if on else 'Resumed'} {len(evaluation.paused_changed)} bots ({what[0]})"
            audit.record(
                s,
                principal,
                action,
                what[0],
                what[1],
                summary,
                after={"bots": sorted(evaluation.paused_changed)},
            )
            return evaluation

        evaluation = await self._db(flip)
        publish(self.bus, evaluation, self.control.kick)
        self._changed(None)
        return len(evaluation.paused_changed)

    async def kill_switch_state(self, actor: Principal | None, *, fleet: bool = False) -> tuple[int, int]:
        """(bots paused by the kill switch, bots) of the acting owner or the fleet."""

        def count(s: Session) -> tuple[int, int]:
            principal = _may_own(actor)
            if fleet and not principal.is_admin:
                raise PermissionDenied("Only admins can pause the whole fleet.")
            q = select(Bot.id) if fleet else select(Bot.id).where(Bot.owner_id == principal.user_id)
            ids = [i for i in s.exec(q).all() if i is not None]
            paused = paused_bot_ids(s, ids)
            return sum(1 for r in paused.values() if r == "kill_switch"), len(ids)

        return await self._db(count)


def card_budgets(s: Session, bot_ids: list[int]) -> dict[int, tuple[str, str]]:
    """bot id -> (pause label, usage vs limit) for dashboard cards and the bot header."""
    paused = paused_bot_ids(s, bot_ids)
    out: dict[int, tuple[str, str]] = {}
    has_budget = set(
        s.exec(select(Budget.bot_id).where(col(Budget.bot_id).in_(bot_ids))).all() if bot_ids else []
    )
    for bot_id in bot_ids:
        usage = ""
        if bot_id in has_budget:
            bot = s.get(Bot, bot_id)
            if bot is not None:
                usage = short_usage(_rows(s, Scope.BOT.value, bot.owner_id, bot_id, [bot_id]))
        out[bot_id] = (PAUSE_LABELS.get(paused.get(bot_id, ""), ""), usage)
    return out
