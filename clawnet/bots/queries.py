"""Read models for the fleet pages, built in one database session each, with the caller's
permission checked here. Nothing here writes. `visible_bots` is the one rule for which bots a
person may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import ColumnElement, exists, or_
from sqlmodel import Session, col, func, select

from clawnet.bots.budgets import card_budgets
from clawnet.bots.checks import discord_invite_url
from clawnet.bots.uptime import uptime_of_bots
from clawnet.bots.views import (
    MAX_CARD_SEARCH,
    BotCard,
    BotChoice,
    BotHeader,
    CardQuery,
    ChannelBadge,
    ChannelRow,
    DayFigures,
    FleetOverview,
    GatewayRow,
    LogScope,
    MemoryPoint,
)
from clawnet.controlplane.gateway_api import main_session_key
from clawnet.controlplane.paths import bot_paths
from clawnet.enums import BotStatus, DesiredStatus, GatewayKind, GatewayStatus, TurnStatus
from clawnet.humanize import ago
from clawnet.models import (
    Bot,
    BotChannel,
    BotSession,
    ChatTurn,
    Gateway,
    GatewayMetric,
    ModelProvider,
    TranscriptMessage,
    utcnow,
)
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, can, require
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, unseal_json
from clawnet.settings import Settings

ACTIVE_WINDOW = timedelta(hours=24)


def visible_bots(session: Session, actor: Principal | None) -> list[Bot]:
    """The bots `actor` may see, by name: every bot for an admin, owned and assigned ones for
    others. Raises PermissionDenied for a role without the fleet pages."""
    require(session, actor, Action.VIEW_FLEET)
    allowed = accessible_bot_ids(session, actor)
    query = select(Bot).order_by(col(Bot.name))
    if allowed is not None:
        if not allowed:
            return []
        query = query.where(col(Bot.id).in_(allowed))
    return list(session.exec(query).all())


def find_bot(session: Session, actor: Principal | None, ref: str) -> int | None:
    """A bot's number from its number or its agent id, if `actor` may see it (None otherwise:
    a bot that does not exist and one the person may not see look the same)."""
    ref = ref.strip()
    bot_id = int(ref) if ref.isdigit() else session.exec(select(Bot.id).where(Bot.agent_id == ref)).first()
    if bot_id is None or session.get(Bot, bot_id) is None:
        return None
    return bot_id if can(session, actor, Action.VIEW_BOT, bot_id) else None


def _latest_rss(session: Session, gateway_ids: list[int]) -> dict[int, int]:
    if not gateway_ids:
        return {}
    latest = (
        select(GatewayMetric.gateway_id, func.max(GatewayMetric.id).label("mid"))
        .where(col(GatewayMetric.gateway_id).in_(gateway_ids))
        .group_by(col(GatewayMetric.gateway_id))
        .subquery()
    )
    rows = session.exec(select(GatewayMetric).join(latest, col(GatewayMetric.id) == latest.c.mid)).all()
    return {m.gateway_id: m.rss_bytes for m in rows}


def gateway_row(gw: Gateway, rss: int | None, bot_count: int) -> GatewayRow:
    return GatewayRow(
        id=gw.id or 0,
        name=gw.name,
        kind=gw.kind,
        placement="spare" if gw.spare else gw.placement,  # a warm spare: idle, ready for a new pool
        status=gw.actual_status,
        detail=gw.status_detail or gw.last_error,
        bots=bot_count,
        memory=f"{rss / 2**30:.2f} GB" if rss else "—",
        port=str(gw.base_port or ""),
        url=gw.url or "",
        restarts=gw.restart_count,
    )


def all_gateways(session: Session, actor: Principal | None) -> list[GatewayRow]:
    require(session, actor, Action.MANAGE_GATEWAYS)
    return [gateway_row(g, None, 0) for g in session.exec(select(Gateway).order_by(col(Gateway.id))).all()]


def _visible_where(session: Session, actor: Principal | None) -> list[ColumnElement[bool]] | None:
    """The condition on `Bot` for the bots `actor` may see ([]: every bot; None: none).
    Raises PermissionDenied for a role without the fleet pages."""
    require(session, actor, Action.VIEW_FLEET)
    allowed = accessible_bot_ids(session, actor)
    if allowed is None:
        return []
    return [col(Bot.id).in_(allowed)] if allowed else None


def _card_filter(query: CardQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status in {s.value for s in BotStatus}:
        where.append(col(Bot.actual_status) == query.status)
    text = query.search.strip().lower()[:MAX_CARD_SEARCH]
    if text:
        matches = [
            func.lower(col(Bot.name)).contains(text, autoescape=True),
            func.lower(col(Bot.agent_id)).contains(text, autoescape=True),
            exists().where(
                col(BotChannel.bot_id) == col(Bot.id),
                func.lower(col(BotChannel.type)).contains(text, autoescape=True),
            ),
        ]
        if text.isdigit() and len(text) < 10:
            matches.append(col(Bot.id) == int(text))
        where.append(or_(*matches))
    return where


def fleet_overview(
    session: Session, actor: Principal | None, query: CardQuery | None = None
) -> FleetOverview:
    """The dashboard: one page of bot cards (search, status filter, paging done here, so a fleet
    of thousands sends one page), the summary of every visible bot, and their gateways."""
    query = query or CardQuery()
    visible = _visible_where(session, actor)
    if visible is None:
        return FleetOverview(cards=[], summary=_summary({}), gateways=[])
    statuses = {
        bot_id: status
        for bot_id, status in session.exec(select(Bot.id, Bot.actual_status).where(*visible))
        if bot_id is not None
    }
    filtered = [*visible, *_card_filter(query)]
    matched = session.exec(select(func.count()).select_from(Bot).where(*filtered)).one()
    per_page = query.per_page if query.per_page > 0 else max(matched, 1)
    pages = max(1, -(-matched // per_page))
    page = min(max(query.page, 1), pages)
    bots = session.exec(
        select(Bot)
        .where(*filtered)
        .order_by(col(Bot.name), col(Bot.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    counts = dict(
        session.exec(
            select(Bot.gateway_id, func.count())
            .where(*visible, col(Bot.gateway_id).is_not(None))
            .group_by(col(Bot.gateway_id))
        ).all()
    )
    gateway_ids = sorted(gid for gid in counts if gid is not None)
    gateways = (
        session.exec(select(Gateway).where(col(Gateway.id).in_(gateway_ids)).order_by(col(Gateway.id))).all()
        if gateway_ids
        else []
    )
    rss = _latest_rss(session, gateway_ids)
    names = {g.id: g.name for g in gateways}
    return FleetOverview(
        cards=_cards(session, actor, list(bots), names),
        summary=_summary(statuses),
        gateways=[gateway_row(g, rss.get(g.id or 0), counts.get(g.id, 0)) for g in gateways],
        statuses=statuses,
        matched=matched,
        page=page,
        pages=pages,
    )


def _summary(statuses: dict[int, str]) -> dict[str, int]:
    summary = {s.value: 0 for s in BotStatus}
    for status in statuses.values():
        summary[status] = summary.get(status, 0) + 1
    summary["total"] = len(statuses)
    return summary


def _cards(
    session: Session, actor: Principal | None, bots: list[Bot], gateways: dict[int | None, str]
) -> list[BotCard]:
    bot_ids = [b.id for b in bots if b.id is not None]
    if not bot_ids:
        return []
    channels: dict[int, list[BotChannel]] = defaultdict(list)
    for ch in session.exec(
        select(BotChannel).where(col(BotChannel.bot_id).in_(bot_ids)).order_by(col(BotChannel.type))
    ):
        channels[ch.bot_id].append(ch)
    since = utcnow() - ACTIVE_WINDOW
    active: dict[int, int] = dict(
        session.exec(
            select(BotSession.bot_id, func.count())
            .where(col(BotSession.bot_id).in_(bot_ids), col(BotSession.last_message_at) >= since)
            .group_by(col(BotSession.bot_id))
        ).all()
    )
    uptimes = uptime_of_bots(session, bot_ids)
    budgets = card_budgets(session, bot_ids)
    cards = []
    for b in bots:
        assert b.id is not None
        cards.append(
            BotCard(
                id=b.id,
                name=b.name,
                emoji=b.emoji or "🤖",
                agent_id=b.agent_id,
                status=b.actual_status,
                desired=b.desired_status,
                error=b.last_error,
                channels=[ChannelBadge(c.type, c.status) for c in channels.get(b.id, [])],
                active_sessions=active.get(b.id, 0),
                last_activity=ago(b.last_activity_at),
                gateway=gateways.get(b.gateway_id, "—") if b.gateway_id else "—",
                gateway_id=b.gateway_id or 0,
                can_operate=can(session, actor, Action.OPERATE_BOT, b.id),
                can_configure=can(session, actor, Action.CONFIGURE_BOT, b.id),
                uptime=uptimes[b.id],
                paused=budgets.get(b.id, ("", ""))[0],
                budget=budgets.get(b.id, ("", ""))[1],
            )
        )
    return cards


def bot_choices(session: Session, actor: Principal | None) -> list[BotChoice]:
    """Every bot by name (what an admin assigns to people)."""
    require(session, actor, Action.MANAGE_USERS)
    return [BotChoice(b.id or 0, b.name) for b in session.exec(select(Bot).order_by(col(Bot.name))).all()]


def bot_header(
    session: Session, settings: Settings, actor: Principal | None, bot_id: int
) -> BotHeader | None:
    require(session, actor, Action.VIEW_BOT, bot_id)
    bot = session.get(Bot, bot_id)
    if bot is None:
        return None
    gw = session.get(Gateway, bot.gateway_id) if bot.gateway_id else None
    provider = session.get(ModelProvider, bot.provider_id) if bot.provider_id else None
    sessions_count, messages, tokens, cost = session.exec(
        select(
            func.count(col(BotSession.id)),
            func.coalesce(func.sum(BotSession.message_count), 0),
            func.coalesce(func.sum(BotSession.total_tokens), 0),
            func.coalesce(func.sum(BotSession.cost_usd), 0.0),
        ).where(BotSession.bot_id == bot_id)
    ).one()
    uptime = ""
    if gw and gw.actual_status == GatewayStatus.RUNNING.value and gw.last_ready_at:
        uptime = ago(gw.last_ready_at).replace(" ago", "")
    card = card_budgets(session, [bot_id]).get(bot_id, ("", ""))
    model_name = bot.model_id
    if provider is not None:
        named = {str(m.get("id")): str(m.get("name") or m.get("id")) for m in provider.models}
        model_name = f"{provider.display_name} · {named.get(bot.model_id, bot.model_id)}"
    return BotHeader(
        id=bot_id,
        name=bot.name,
        emoji=bot.emoji or "🤖",
        agent_id=bot.agent_id,
        status=bot.actual_status,
        desired=bot.desired_status,
        error=bot.last_error,
        model=model_name or "—",
        placement=bot.placement,
        gateway=gw.name if gw else "—",
        gateway_id=gw.id or 0 if gw else 0,
        gateway_status=gw.actual_status if gw else "",
        gateway_detail=(gw.status_detail or gw.last_error) if gw else "",
        uptime=uptime or "—",
        sessions=int(sessions_count),
        messages=int(messages),
        tokens=int(tokens),
        cost=f"${cost:.4f}",
        last_activity=ago(bot.last_activity_at),
        desired_version=gw.desired_config_version if gw else 0,
        applied_version=gw.applied_config_version if gw else 0,
        in_sync=bool(gw and gw.applied_config_hash and gw.applied_config_hash == gw.desired_config_hash),
        drift=ago(gw.drift_detected_at) if gw and gw.drift_detected_at else "",
        running=bot.desired_status == DesiredStatus.RUNNING.value,
        data_folder=str(bot_paths(settings, bot.agent_id).root),
        can_operate=can(session, actor, Action.OPERATE_BOT, bot_id),
        can_configure=can(session, actor, Action.CONFIGURE_BOT, bot_id),
        can_delete=can(session, actor, Action.DELETE_BOT, bot_id),
        can_social=can(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id),
        chat_session_key=main_session_key(bot.agent_id),
        paused=card[0],
        budget=card[1],
    )


def bot_channels(session: Session, actor: Principal | None, bot_id: int) -> list[ChannelRow]:
    require(session, actor, Action.VIEW_BOT, bot_id)
    rows = []
    for ch in session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot_id).order_by(col(BotChannel.type))
    ):
        creds = unseal_json(CHANNEL_CREDENTIALS, ch.credentials_enc) if ch.credentials_enc else {}
        stored = sorted(creds)
        app_id = creds.get("applicationId", "") if ch.type == "discord" else ""
        rows.append(
            ChannelRow(
                type=ch.type,
                status=ch.status,
                error=ch.last_error,
                last_seen=ago(ch.last_seen_at),
                dm_policy=ch.dm_policy,
                group_policy=ch.group_policy,
                mention=ch.mention_policy,
                allow_from=", ".join(ch.allow_from) or "—",
                enabled=ch.enabled,
                credentials=", ".join(stored) + (" (stored, hidden)" if stored else "none"),
                invite_url=discord_invite_url(app_id) if app_id else "",
            )
        )
    return rows


def analytics(
    session: Session, actor: Principal | None, *, bot_id: int | None = None, days: int = 14
) -> list[DayFigures]:
    """Per day: messages, tokens, cost, errors (failed turns) for one bot or the visible fleet."""
    if bot_id is not None:
        require(session, actor, Action.VIEW_BOT, bot_id)
        bot_ids = [bot_id]
    else:
        bot_ids = [b.id for b in visible_bots(session, actor) if b.id is not None]
    start = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    labels = [(start + timedelta(days=d)).strftime("%m-%d") for d in range(days)]
    messages = dict.fromkeys(labels, 0)
    tokens = dict.fromkeys(labels, 0)
    cost = dict.fromkeys(labels, 0.0)
    errors = dict.fromkeys(labels, 0)
    if bot_ids:
        rows = session.exec(
            select(
                TranscriptMessage.created_at,
                TranscriptMessage.input_tokens,
                TranscriptMessage.output_tokens,
                TranscriptMessage.cost_usd,
            )
            .join(BotSession, col(BotSession.id) == TranscriptMessage.session_id)
            .where(col(BotSession.bot_id).in_(bot_ids), col(TranscriptMessage.created_at) >= start)
        ).all()
        for at, tin, tout, usd in rows:
            day = at.strftime("%m-%d")
            if day in messages:
                messages[day] += 1
                tokens[day] += tin + tout
                cost[day] += usd
        failed = session.exec(
            select(ChatTurn.started_at).where(
                col(ChatTurn.bot_id).in_(bot_ids),
                ChatTurn.status == TurnStatus.FAILED.value,
                col(ChatTurn.started_at) >= start,
            )
        ).all()
        for at in failed:
            day = at.strftime("%m-%d")
            if day in errors:
                errors[day] += 1
    return [DayFigures(d, messages[d], tokens[d], round(cost[d], 6), errors[d]) for d in labels]


def memory_series(
    session: Session, actor: Principal | None, bot_id: int, hours: int = 24
) -> list[MemoryPoint]:
    """The memory of the bot's gateway over the last `hours`."""
    require(session, actor, Action.VIEW_BOT, bot_id)
    bot = session.get(Bot, bot_id)
    if bot is None or bot.gateway_id is None:
        return []
    since = utcnow() - timedelta(hours=hours)
    rows = session.exec(
        select(GatewayMetric)
        .where(GatewayMetric.gateway_id == bot.gateway_id, col(GatewayMetric.at) >= since)
        .order_by(col(GatewayMetric.at))
    ).all()
    return [
        MemoryPoint(m.at.strftime("%H:%M"), round(m.rss_bytes / 2**20), m.event_loop_delay_p99_ms)
        for m in rows
    ]


def log_scope(session: Session, actor: Principal | None, bot_id: int) -> LogScope | None:
    require(session, actor, Action.VIEW_BOT, bot_id)
    bot = session.get(Bot, bot_id)
    if bot is None or bot.gateway_id is None:
        return None
    others = session.exec(
        select(Bot.agent_id).where(Bot.gateway_id == bot.gateway_id, Bot.id != bot_id)
    ).all()
    gateway = session.get(Gateway, bot.gateway_id)
    remote = gateway is not None and gateway.kind == GatewayKind.REMOTE.value
    return LogScope(bot.gateway_id, list(others), remote=remote)
