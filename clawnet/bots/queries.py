"""Read models for the operator UI: what each page shows, as plain strings and numbers, with the
caller's permission checked here. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from clawnet.controlplane.supervisor import bot_paths
from clawnet.models import (
    AuditEvent,
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
from clawnet.models.enums import BotStatus, DesiredStatus, GatewayStatus, TurnStatus
from clawnet.security.permissions import Action, Principal, accessible_bot_ids, can, require
from clawnet.security.secret_fields import CHANNEL_CREDENTIALS, unseal_json

ACTIVE_WINDOW = timedelta(hours=24)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago', or 'never'."""
    if moment is None:
        return "never"
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _visible_bots(session: Session, actor: Principal | None) -> list[Bot]:
    require(session, actor, Action.VIEW_FLEET)
    allowed = accessible_bot_ids(session, actor)
    query = select(Bot).order_by(col(Bot.name))
    if allowed is not None:
        if not allowed:
            return []
        query = query.where(col(Bot.id).in_(allowed))
    return list(session.exec(query).all())


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


def gateway_card(gw: Gateway, rss: int | None, bot_count: int) -> dict[str, str]:
    return {
        "id": str(gw.id),
        "name": gw.name,
        "kind": gw.kind,
        "placement": gw.placement,
        "status": gw.actual_status,
        "detail": gw.status_detail or gw.last_error,
        "bots": str(bot_count),
        "memory": f"{rss / 2**30:.2f} GB" if rss else "—",
        "port": str(gw.base_port or ""),
        "url": gw.url or "",
        "restarts": str(gw.restart_count),
    }


def fleet_overview(session: Session, actor: Principal | None) -> dict[str, Any]:
    """Bot cards, a fleet summary and the gateways, for the dashboard."""
    bots = _visible_bots(session, actor)
    bot_ids = [b.id for b in bots if b.id is not None]
    channels: dict[int, list[BotChannel]] = defaultdict(list)
    active: dict[int, int] = {}
    if bot_ids:
        for ch in session.exec(
            select(BotChannel).where(col(BotChannel.bot_id).in_(bot_ids)).order_by(col(BotChannel.type))
        ):
            channels[ch.bot_id].append(ch)
        since = utcnow() - ACTIVE_WINDOW
        for bot_id, count in session.exec(
            select(BotSession.bot_id, func.count())
            .where(col(BotSession.bot_id).in_(bot_ids), col(BotSession.last_message_at) >= since)
            .group_by(col(BotSession.bot_id))
        ).all():
            active[bot_id] = count
    gateway_ids = sorted({b.gateway_id for b in bots if b.gateway_id is not None})
    gateways = (
        {g.id: g for g in session.exec(select(Gateway).where(col(Gateway.id).in_(gateway_ids))).all()}
        if gateway_ids
        else {}
    )
    assert actor is not None
    cards = []
    for b in bots:
        assert b.id is not None
        gw = gateways.get(b.gateway_id) if b.gateway_id else None
        cards.append(
            {
                "id": str(b.id),
                "name": b.name,
                "emoji": b.emoji or "🤖",
                "agent_id": b.agent_id,
                "status": b.actual_status,
                "desired": b.desired_status,
                "error": b.last_error,
                "channels": ", ".join(f"{c.type}: {c.status}" for c in channels.get(b.id, []))
                or "no channels",
                "channel_list": ",".join(f"{c.type}|{c.status}" for c in channels.get(b.id, [])),
                "sessions": str(active.get(b.id, 0)),
                "last_activity": ago(b.last_activity_at),
                "gateway": gw.name if gw else "—",
                "gateway_id": str(b.gateway_id or ""),
                "search": f"{b.name} {b.agent_id} {' '.join(c.type for c in channels.get(b.id, []))}".lower(),
                "can_operate": "yes" if can(session, actor, Action.OPERATE_BOT, b.id) else "",
                "can_configure": "yes" if can(session, actor, Action.CONFIGURE_BOT, b.id) else "",
            }
        )
    summary = {s.value: 0 for s in BotStatus}
    for b in bots:
        summary[b.actual_status] = summary.get(b.actual_status, 0) + 1
    counts: dict[int, int] = defaultdict(int)
    for b in bots:
        if b.gateway_id:
            counts[b.gateway_id] += 1
    rss = _latest_rss(session, gateway_ids)
    return {
        "cards": cards,
        "summary": {k: str(v) for k, v in summary.items()} | {"total": str(len(bots))},
        "gateways": [gateway_card(g, rss.get(g.id or 0), counts[g.id or 0]) for g in gateways.values()],
    }


def bot_header(session: Session, actor: Principal | None, bot_id: int) -> dict[str, str]:
    require(session, actor, Action.VIEW_BOT, bot_id)
    bot = session.get(Bot, bot_id)
    if bot is None:
        return {}
    gw = session.get(Gateway, bot.gateway_id) if bot.gateway_id else None
    provider = session.get(ModelProvider, bot.provider_id) if bot.provider_id else None
    sessions_count, messages = session.exec(
        select(func.count(col(BotSession.id)), func.coalesce(func.sum(BotSession.message_count), 0)).where(
            BotSession.bot_id == bot_id
        )
    ).one()
    tokens, cost = session.exec(
        select(
            func.coalesce(func.sum(BotSession.total_tokens), 0),
            func.coalesce(func.sum(BotSession.cost_usd), 0.0),
        ).where(BotSession.bot_id == bot_id)
    ).one()
    uptime = ""
    if gw and gw.actual_status == GatewayStatus.RUNNING.value and gw.last_ready_at:
        uptime = ago(gw.last_ready_at).replace(" ago", "")
    assert actor is not None
    return {
        "id": str(bot.id),
        "name": bot.name,
        "emoji": bot.emoji or "🤖",
        "agent_id": bot.agent_id,
        "status": bot.actual_status,
        "desired": bot.desired_status,
        "error": bot.last_error,
        "model": f"{provider.display_name if provider else '—'} · {bot.model_id}",
        "placement": bot.placement,
        "gateway": gw.name if gw else "—",
        "gateway_id": str(gw.id) if gw else "",
        "gateway_status": gw.actual_status if gw else "",
        "gateway_detail": (gw.status_detail or gw.last_error) if gw else "",
        "uptime": uptime or "—",
        "sessions": str(sessions_count),
        "messages": str(messages),
        "tokens": str(tokens),
        "cost": f"${cost:.4f}",
        "last_activity": ago(bot.last_activity_at),
        "desired_version": str(gw.desired_config_version if gw else 0),
        "applied_version": str(gw.applied_config_version if gw else 0),
        "in_sync": "yes"
        if gw and gw.applied_config_hash == gw.desired_config_hash and gw.applied_config_hash
        else "",
        "drift": ago(gw.drift_detected_at) if gw and gw.drift_detected_at else "",
        "can_operate": "yes" if can(session, actor, Action.OPERATE_BOT, bot_id) else "",
        "can_configure": "yes" if can(session, actor, Action.CONFIGURE_BOT, bot_id) else "",
        "can_delete": "yes" if can(session, actor, Action.DELETE_BOT, bot_id) else "",
        "can_social": "yes" if can(session, actor, Action.MANAGE_BOT_SOCIAL, bot_id) else "",
        "running": "yes" if bot.desired_status == DesiredStatus.RUNNING.value else "",
        "data_folder": str(bot_paths_root(bot.agent_id)),
    }


def bot_paths_root(agent_id: str) -> Any:
    from clawnet.settings import get_settings

    return bot_paths(get_settings(), agent_id).root


def bot_channels(session: Session, actor: Principal | None, bot_id: int) -> list[dict[str, str]]:
    require(session, actor, Action.VIEW_BOT, bot_id)
    rows = []
    for ch in session.exec(
        select(BotChannel).where(BotChannel.bot_id == bot_id).order_by(col(BotChannel.type))
    ):
        stored = sorted(unseal_json(CHANNEL_CREDENTIALS, ch.credentials_enc)) if ch.credentials_enc else []
        rows.append(
            {
                "type": ch.type,
                "status": ch.status,
                "error": ch.last_error,
                "last_seen": ago(ch.last_seen_at),
                "dm_policy": ch.dm_policy,
                "group_policy": ch.group_policy,
                "mention": ch.mention_policy,
                "allow_from": ", ".join(ch.allow_from) or "—",
                "enabled": "yes" if ch.enabled else "",
                "credentials": ", ".join(stored) + (" (stored, hidden)" if stored else "none"),
            }
        )
    return rows


def sessions_table(
    session: Session,
    actor: Principal | None,
    *,
    bot_id: int | None = None,
    search: str = "",
    limit: int = 100,
) -> list[dict[str, str]]:
    if bot_id is not None:
        require(session, actor, Action.VIEW_BOT, bot_id)
        bot_ids: list[int] | None = [bot_id]
    else:
        bot_ids = [b.id for b in _visible_bots(session, actor) if b.id is not None]
        if not bot_ids:
            return []
    query = select(BotSession, Bot).join(Bot, col(Bot.id) == BotSession.bot_id)
    if bot_ids is not None:
        query = query.where(col(BotSession.bot_id).in_(bot_ids))
    if search.strip():
        needle = f"%{search.strip().lower()}%"
        query = query.where(
            sa.or_(
                func.lower(BotSession.key).like(needle),
                func.lower(BotSession.preview).like(needle),
                func.lower(Bot.name).like(needle),
            )
        )
    query = query.order_by(sa.desc(func.coalesce(BotSession.last_message_at, BotSession.created_at))).limit(
        limit
    )
    return [
        {
            "id": str(s.id),
            "bot_id": str(b.id),
            "bot": b.name,
            "key": s.key,
            "channel": s.channel or "dashboard",
            "peer": s.peer or "—",
            "messages": str(s.message_count),
            "tokens": str(s.total_tokens),
            "cost": f"${s.cost_usd:.4f}",
            "last": ago(s.last_message_at),
            "preview": s.preview[:120],
        }
        for s, b in session.exec(query).all()
    ]


def transcript(
    session: Session, actor: Principal | None, session_id: int, limit: int = 500
) -> list[dict[str, str]]:
    row = session.get(BotSession, session_id)
    if row is None:
        return []
    require(session, actor, Action.VIEW_BOT, row.bot_id)
    messages = session.exec(
        select(TranscriptMessage)
        .where(TranscriptMessage.session_id == session_id)
        .order_by(col(TranscriptMessage.seq).desc())
        .limit(limit)
    ).all()
    return [
        {
            "seq": str(m.seq),
            "role": m.role,
            "text": m.text,
            "at": m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "tokens": str(m.input_tokens + m.output_tokens) if m.role == "assistant" else "",
        }
        for m in reversed(messages)
    ]


def analytics(
    session: Session, actor: Principal | None, *, bot_id: int | None = None, days: int = 14
) -> list[dict[str, Any]]:
    """Per day: messages, tokens, cost, errors (failed turns) for one bot or the visible fleet."""
    if bot_id is not None:
        require(session, actor, Action.VIEW_BOT, bot_id)
        bot_ids = [bot_id]
    else:
        bot_ids = [b.id for b in _visible_bots(session, actor) if b.id is not None]
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
    return [
        {
            "day": d,
            "messages": messages[d],
            "tokens": tokens[d],
            "cost": round(cost[d], 6),
            "errors": errors[d],
        }
        for d in labels
    ]


def gateway_memory_series(session: Session, gateway_id: int, hours: int = 24) -> list[dict[str, Any]]:
    since = utcnow() - timedelta(hours=hours)
    rows = session.exec(
        select(GatewayMetric)
        .where(GatewayMetric.gateway_id == gateway_id, col(GatewayMetric.at) >= since)
        .order_by(col(GatewayMetric.at))
    ).all()
    return [
        {
            "at": m.at.strftime("%H:%M"),
            "memory_mb": round(m.rss_bytes / 2**20),
            "loop_p99_ms": m.event_loop_delay_p99_ms,
        }
        for m in rows
    ]


def audit_log(
    session: Session, actor: Principal | None, *, limit: int = 100, search: str = ""
) -> list[dict[str, str]]:
    require(session, actor, Action.VIEW_AUDIT)
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if search.strip():
        needle = f"%{search.strip().lower()}%"
        query = query.where(
            sa.or_(
                func.lower(AuditEvent.summary).like(needle),
                func.lower(AuditEvent.action).like(needle),
                func.lower(AuditEvent.actor_label).like(needle),
            )
        )
    return [
        {
            "id": str(e.id),
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor_label,
            "action": e.action,
            "object": f"{e.object_type} {e.object_id}".strip(),
            "summary": e.summary,
            "change": _change_text(e.before, e.after),
        }
        for e in session.exec(query).all()
    ]


def _change_text(before: dict | None, after: dict | None) -> str:
    if not before and not after:
        return ""
    keys = sorted(set(before or {}) | set(after or {}))
    parts = []
    for key in keys:
        old, new = (before or {}).get(key), (after or {}).get(key)
        if old != new:
            parts.append(f"{key}: {old if old is not None else '—'} → {new if new is not None else '—'}")
    return "; ".join(parts)
