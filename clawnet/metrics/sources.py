"""The hook other domains use to add figures to `/metrics` (budgets, alerts, ...).

    from prometheus_client.core import GaugeMetricFamily
    from clawnet.metrics import register_source

    def budget_figures(session: Session) -> Iterable[Metric]:
        g = GaugeMetricFamily("clawnet_budget_used_ratio", "...", labels=["scope"])
        g.add_metric(["owner"], 0.42)
        yield g

    register_source("budgets", budget_figures)

A source runs on a worker thread inside the scrape's database session (read only: do a few
aggregate queries, never one per bot), and its families are cached with the fleet snapshot. Keep
labels bounded (no free text, no per-message ids); a source that raises is logged and skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import Metric
from sqlmodel import Session

Source = Callable[[Session], Iterable[Metric]]

_sources: dict[str, Source] = {}
_lock = threading.Lock()


def register_source(name: str, source: Source) -> None:
    """Add (or replace) the figures source `name`."""
    with _lock:
        _sources[name] = source


def unregister_source(name: str) -> None:
    with _lock:
        _sources.pop(name, None)


def sources() -> list[tuple[str, Source]]:
    with _lock:
        return sorted(_sources.items())
