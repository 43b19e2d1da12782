"""Prometheus metrics of the learning loop's data: events taken, lists logged, the log queue."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS = Counter(
    "lookalike_events_total",
    "Shopper events by type and outcome (accepted, duplicate, rejected)",
    ["type", "outcome"],
)
LISTS_LOGGED = Counter("lookalike_lists_logged_total", "Served lists written to the event store")
LISTS_DROPPED = Counter(
    "lookalike_lists_dropped_total",
    "Served lists given up on: the event store stayed unavailable too long",
)
LOG_QUEUE = Gauge(
    "lookalike_list_log_queue_depth",
    "Served lists waiting to be written to the event store",
    multiprocess_mode="livesum",
)
