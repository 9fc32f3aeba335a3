"""Budget, pause, alert and approval figures for `/metrics` (registered as sources on import).

All labels are bounded: rule names, routes, scopes, periods and thresholds, never a bot or an
owner. Each family is one grouped query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlmodel import Session, col, func, select

from clawnet.metrics.sources import register_source
from clawnet.models import Alert, AlertDelivery, ApprovalRequest, BotPause, Budget, utcnow

LIVE_ALERT_STATES = ("open", "acknowledged")


def budget_figures(s: Session) -> Iterator[Metric]:
    paused = GaugeMetricFamily(
        "clawnet_bots_paused", "Bots taking no model turns, by why (budget, kill_switch)", labels=["reason"]
    )
    counts = dict.fromkeys(("budget", "kill_switch"), 0)
    for reason, n in s.exec(
        select(BotPause.reason, func.count()).where(BotPause.reason != "none").group_by(BotPause.reason)
    ):
        counts[str(reason)] = int(n)
    for reason, n in sorted(counts.items()):
        paused.add_metric([reason], n)
    yield paused

    budgets = GaugeMetricFamily(
        "clawnet_budgets",
        "Budgets by scope, period and metric, and the last threshold they crossed (0, 80 or 100 %)",
        labels=["scope", "period", "metric", "threshold"],
    )
    columns = (col(Budget.scope), col(Budget.period), col(Budget.metric), col(Budget.last_threshold))
    rows = s.connection().execute(sa.select(*columns, func.count()).group_by(*columns)).all()
    for scope, period, metric, threshold, n in rows:
        budgets.add_metric([str(scope), str(period), str(metric), str(int(threshold))], int(n))
    yield budgets


def alert_figures(s: Session) -> Iterator[Metric]:
    live = GaugeMetricFamily(
        "clawnet_alerts_live", "Alerts not yet resolved, by rule and state", labels=["rule", "state"]
    )
    for rule, state, n in s.exec(
        select(Alert.rule, Alert.state, func.count())
        .where(col(Alert.state).in_(LIVE_ALERT_STATES))
        .group_by(Alert.rule, Alert.state)
    ):
        live.add_metric([str(rule), str(state)], int(n))
    yield live

    since = utcnow() - timedelta(days=1)
    opened = GaugeMetricFamily(
        "clawnet_alerts_opened_last_day", "Alerts opened in the last 24 h", labels=["rule"]
    )
    for rule, n in s.exec(
        select(Alert.rule, func.count()).where(Alert.opened_at >= since).group_by(Alert.rule)
    ):
        opened.add_metric([str(rule)], int(n))
    yield opened

    deliveries = GaugeMetricFamily(
        "clawnet_alert_deliveries_last_day",
        "Alert delivery attempts in the last 24 h, by route (email, webhook, bot) and outcome",
        labels=["route", "ok"],
    )
    for route, ok, n in s.exec(
        select(AlertDelivery.route, AlertDelivery.ok, func.count())
        .where(AlertDelivery.at >= since)
        .group_by(col(AlertDelivery.route), col(AlertDelivery.ok))
    ):
        deliveries.add_metric([str(route), "true" if ok else "false"], int(n))
    yield deliveries

    pending = GaugeMetricFamily(
        "clawnet_approvals_pending", "Exec and plugin approvals waiting for an answer", labels=["kind"]
    )
    counts = dict.fromkeys(("exec", "plugin"), 0)
    for kind, n in s.exec(
        select(ApprovalRequest.kind, func.count())
        .where(ApprovalRequest.state == "pending")
        .group_by(ApprovalRequest.kind)
    ):
        counts[str(kind)] = int(n)
    for kind, n in sorted(counts.items()):
        pending.add_metric([kind], n)
    yield pending


register_source("budgets", budget_figures)
register_source("alerts", alert_figures)
