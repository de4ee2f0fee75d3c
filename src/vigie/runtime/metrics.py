"""Prometheus metrics of the API and the workers (the ``/metrics`` route is ``api/metrics.py``).

Counters and histograms carry no personal data: labels are decision kinds, reasons and modes,
never ids or texts. A worker serves the same registry on its own port (``--metrics-port``).
Here, below the adapters, so the bus worker counts without importing the HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

EVENTS_IN = Counter("vigie_events_in_total", "Events received by the API", ["mode"])
REFUSED = Counter(
    "vigie_events_refused_total", "Event batches refused by the API (bus)", ["reason"]
)
DECISIONS = Counter("vigie_decisions_total", "Decisions made, by kind", ["decision"])
BATCH_SECONDS = Histogram(
    "vigie_batch_seconds", "Time to process one batch transaction", ["via"], buckets=_LATENCY
)
BUS_LAG = Histogram(
    "vigie_bus_lag_seconds",
    "Time an event waited on the bus before a worker took it",
    buckets=_LATENCY,
)
END_TO_END = Histogram(
    "vigie_end_to_end_seconds",
    "Time from acceptance by the API to the committed decision",
    buckets=_LATENCY,
)
BACKLOG = Gauge("vigie_bus_backlog_events", "Events on the bus not yet acked by a worker")
DEAD_LETTERS = Counter("vigie_dead_letters_total", "Events moved to the dead-letter subject")
RETRIES = Counter("vigie_worker_retries_total", "Batches retried by workers", ["reason"])
PARTITIONS = Gauge("vigie_worker_partitions", "Partitions this worker consumes")


EVENTS_IN_SYNC = EVENTS_IN.labels(mode="sync")
# Labelled children looked up once: ``labels()`` on every request shows in profiles.
_DECISION_COUNTERS: dict[str, Any] = {}
_BATCH_TIMERS: dict[str, Any] = {}


def count_decisions(results: Iterable[dict[str, Any]]) -> None:
    for result in results:
        kind = str(result.get("decision", "unknown"))
        counter = _DECISION_COUNTERS.get(kind)
        if counter is None:
            counter = _DECISION_COUNTERS[kind] = DECISIONS.labels(decision=kind)
        counter.inc()


def record_batch(via: str, seconds: float, results: Iterable[dict[str, Any]]) -> None:
    """One processed batch: its time, and the decisions it made."""
    timer = _BATCH_TIMERS.get(via)
    if timer is None:
        timer = _BATCH_TIMERS[via] = BATCH_SECONDS.labels(via=via)
    timer.observe(seconds)
    count_decisions(results)
