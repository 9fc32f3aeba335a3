"""Prometheus metrics for operators' own tools (`/metrics`, off unless CLAWNET_METRICS_TOKEN is set).

- `instruments`: the in-process histograms (chat latency, web request latency) and the one
  registry every series is exposed from.
- `fleet`: fleet, gateway and per-bot figures, read from the database in a few aggregate queries
  and cached for a few seconds (a scrape never touches the event loop's thread).
- `sources`: the hook other domains (budgets, alerts) use to add their own figures.
- `owner_controls`: budgets, paused bots, alerts and approvals (registered as sources).
- `scrape`: the token check and the text a scrape returns; `web`: the request-latency middleware.

Label cardinality is bounded: per-bot series exist for at most `fleet.MAX_BOT_SERIES` bots (the
lowest ids); every other bot is added into one `bot="other"` series (sums). Gateways are few by
construction (one process each). Histograms have no per-bot label.
"""

from clawnet.metrics.instruments import (
    CHAT_FIRST_REPLY_SECONDS,
    CHAT_TURN_SECONDS,
    REGISTRY,
    WEB_REQUEST_SECONDS,
)
from clawnet.metrics.scrape import scrape_text, token_accepted
from clawnet.metrics.sources import Source, register_source, unregister_source

# Budget, pause, alert and approval figures register themselves as sources.
from clawnet.metrics import owner_controls  # noqa: F401  (isort: skip)

__all__ = [
    "CHAT_FIRST_REPLY_SECONDS",
    "CHAT_TURN_SECONDS",
    "REGISTRY",
    "WEB_REQUEST_SECONDS",
    "Source",
    "register_source",
    "scrape_text",
    "token_accepted",
    "unregister_source",
]
