"""Fleet, gateway and per-bot figures, from a handful of aggregate queries (never one per bot).

Per-bot series are bounded: the `MAX_BOT_SERIES` bots with the lowest ids get their own `bot`
label (their agent id); all others are summed into `bot="other"`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlmodel import Session, col, func, select

from clawnet.enums import BotStatus, DesiredStatus, GatewayStatus, TurnStatus
from clawnet.models import Bot, BotSession, ChatTurn, Gateway, GatewayMetric

MAX_BOT_SERIES = 100
OTHER = "other"


@dataclass
class BotFigures:
    up: int = 0
    desired_running: int = 0
    messages: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    turns: dict[str, int] = field(default_factory=dict)  # outcome -> count


@dataclass(frozen=True)
class GatewayFigures:
    id: int
    name: str
    status: str
    restarts: int
    rss_bytes: int
    loop_delay_p99_s: float
    sessions: int


@dataclass
class FleetSnapshot:
    bots_by_status: dict[str, int]
    bots_desired_running: int
    gateways_by_status: dict[str, int]
    gateways: list[GatewayFigures]
    bots: dict[str, BotFigures]  # label -> figures; at most MAX_BOT_SERIES + 1 labels


def read_snapshot(s: Session, max_bots: int = MAX_BOT_SERIES) -> FleetSnapshot:
    bot_rows = [
        (int(bot_id or 0), agent_id, actual, desired)
        for bot_id, agent_id, actual, desired in s.exec(
            select(Bot.id, Bot.agent_id, Bot.actual_status, Bot.desired_status).order_by(col(Bot.id))
        ).all()
    ]
    label: dict[int, str] = {}
    for i, (bot_id, agent_id, _a, _d) in enumerate(bot_rows):
        label[bot_id] = agent_id if i < max_bots else OTHER
    bots: dict[str, BotFigures] = defaultdict(BotFigures)
    by_status = {st.value: 0 for st in BotStatus}
    desired_running = 0
    for bot_id, _agent, actual, desired in bot_rows:
        fig = bots[label[bot_id]]
        by_status[actual] = by_status.get(actual, 0) + 1
        if actual == BotStatus.RUNNING.value:
            fig.up += 1
        if desired == DesiredStatus.RUNNING.value:
            fig.desired_running += 1
            desired_running += 1
    for bot_id, messages, tokens, cost in s.exec(
        select(
            BotSession.bot_id,
            func.sum(BotSession.message_count),
            func.sum(BotSession.total_tokens),
            func.sum(BotSession.cost_usd),
        ).group_by(col(BotSession.bot_id))
    ).all():
        if bot_id in label:
            fig = bots[label[bot_id]]
            fig.messages += int(messages or 0)
            fig.tokens += int(tokens or 0)
            fig.cost_usd += float(cost or 0.0)
    for bot_id, status, count in s.exec(
        select(ChatTurn.bot_id, ChatTurn.status, func.count()).group_by(
            col(ChatTurn.bot_id), col(ChatTurn.status)
        )
    ).all():
        if bot_id in label and status in (TurnStatus.DONE.value, TurnStatus.FAILED.value):
            turns = bots[label[bot_id]].turns
            turns[status] = turns.get(status, 0) + int(count)

    latest = (
        select(GatewayMetric.gateway_id, func.max(GatewayMetric.id).label("last_id"))
        .group_by(col(GatewayMetric.gateway_id))
        .subquery()
    )
    samples = {
        m.gateway_id: m
        for m in s.exec(select(GatewayMetric).join(latest, col(GatewayMetric.id) == latest.c.last_id)).all()
    }
    gw_by_status = {st.value: 0 for st in GatewayStatus}
    gateways = []
    for gw in s.exec(select(Gateway).order_by(col(Gateway.id))).all():
        assert gw.id is not None
        gw_by_status[gw.actual_status] = gw_by_status.get(gw.actual_status, 0) + 1
        m = samples.get(gw.id)
        gateways.append(
            GatewayFigures(
                id=gw.id,
                name=gw.name,
                status=gw.actual_status,
                restarts=gw.restart_count,
                rss_bytes=m.rss_bytes if m else 0,
                loop_delay_p99_s=(m.event_loop_delay_p99_ms / 1000.0) if m else 0.0,
                sessions=m.session_count if m else 0,
            )
        )
    return FleetSnapshot(
        bots_by_status=by_status,
        bots_desired_running=desired_running,
        gateways_by_status=gw_by_status,
        gateways=gateways,
        bots=dict(bots),
    )


def families(snap: FleetSnapshot) -> Iterator[Metric]:
    bots = GaugeMetricFamily("clawnet_bots", "Bots by actual status.", labels=["status"])
    for status, n in sorted(snap.bots_by_status.items()):
        bots.add_metric([status], n)
    yield bots
    yield GaugeMetricFamily(
        "clawnet_bots_desired_running", "Bots their owners want running.", value=snap.bots_desired_running
    )
    gws = GaugeMetricFamily("clawnet_gateways", "Gateways by actual status.", labels=["status"])
    for status, n in sorted(snap.gateways_by_status.items()):
        gws.add_metric([status], n)
    yield gws

    gl = ["gateway", "name"]
    up = GaugeMetricFamily("clawnet_gateway_up", "1 when the gateway is running.", labels=gl)
    rss = GaugeMetricFamily("clawnet_gateway_rss_bytes", "Gateway resident memory (last sample).", labels=gl)
    lag = GaugeMetricFamily(
        "clawnet_gateway_event_loop_delay_p99_seconds",
        "Gateway event loop delay, p99 of the last sample.",
        labels=gl,
    )
    sessions = GaugeMetricFamily("clawnet_gateway_sessions", "Sessions the gateway reported.", labels=gl)
    restarts = CounterMetricFamily(
        "clawnet_gateway_restarts", "Restarts of the gateway process by ClawNet.", labels=gl
    )
    for g in snap.gateways:
        labels = [str(g.id), g.name]
        up.add_metric(labels, 1 if g.status == GatewayStatus.RUNNING.value else 0)
        rss.add_metric(labels, g.rss_bytes)
        lag.add_metric(labels, g.loop_delay_p99_s)
        sessions.add_metric(labels, g.sessions)
        restarts.add_metric(labels, g.restarts)
    yield from (up, rss, lag, sessions, restarts)

    bl = ["bot"]
    bot_up = GaugeMetricFamily(
        "clawnet_bot_up", 'Bots running under this label (1 or 0; a count for bot="other").', labels=bl
    )
    bot_desired = GaugeMetricFamily(
        "clawnet_bot_desired_running", "Bots under this label their owner wants running.", labels=bl
    )
    messages = GaugeMetricFamily(
        "clawnet_bot_messages", "Messages in the bot's sessions (as reported by its gateway).", labels=bl
    )
    tokens = GaugeMetricFamily("clawnet_bot_tokens", "Tokens used in the bot's sessions.", labels=bl)
    cost = GaugeMetricFamily("clawnet_bot_cost_usd", "Model cost of the bot's sessions (USD).", labels=bl)
    turns = CounterMetricFamily(
        "clawnet_bot_turns", "Chat turns ClawNet sent to the bot, by outcome.", labels=["bot", "outcome"]
    )
    for name, fig in sorted(snap.bots.items()):
        bot_up.add_metric([name], fig.up)
        bot_desired.add_metric([name], fig.desired_running)
        messages.add_metric([name], fig.messages)
        tokens.add_metric([name], fig.tokens)
        cost.add_metric([name], fig.cost_usd)
        for outcome, n in sorted(fig.turns.items()):
            turns.add_metric([name, outcome], n)
    yield from (bot_up, bot_desired, messages, tokens, cost, turns)
    total_cost = sum(f.cost_usd for f in snap.bots.values())
    total_tokens = sum(f.tokens for f in snap.bots.values())
    yield GaugeMetricFamily(
        "clawnet_fleet_cost_usd", "Model cost of every bot's sessions (USD).", value=total_cost
    )
    yield GaugeMetricFamily(
        "clawnet_fleet_tokens", "Tokens used by every bot's sessions.", value=total_tokens
    )
