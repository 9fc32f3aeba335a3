"""The registry `/metrics` exposes, and the histograms observed in-process.

Histograms live in the process that observes them: chat latency in the process that runs the
control plane (the web backend by default), web request latency in each web worker.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CHAT_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
WEB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

CHAT_TURN_SECONDS = Histogram(
    "clawnet_chat_turn_seconds",
    "Time from a chat message sent to a bot until its turn ended, by outcome (done, failed).",
    ["outcome"],
    buckets=CHAT_BUCKETS,
    registry=REGISTRY,
)
CHAT_FIRST_REPLY_SECONDS = Histogram(
    "clawnet_chat_first_reply_seconds",
    "Time from a chat message sent to a bot until the first streamed part of its answer.",
    buckets=CHAT_BUCKETS,
    registry=REGISTRY,
)
WEB_REQUEST_SECONDS = Histogram(
    "clawnet_web_request_seconds",
    "HTTP request latency of the web backend, by route template (API routes; 'reflex' for the "
    "rest), method and status class.",
    ["route", "method", "status"],
    buckets=WEB_BUCKETS,
    registry=REGISTRY,
)
