"""`POST /events`: each event checked against the list it names, the valid ones kept at once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from events import metrics
from events.log import ListLog
from events.model import Event, StoredEvent, event_time


@dataclass(frozen=True)
class Rejection:
    """Why the event at `index` of the batch was not taken."""

    index: int
    reason: str


@dataclass(frozen=True)
class Receipt:
    """What happened to a batch: kept, already kept before (same `event_id`), refused."""

    accepted: int
    duplicates: int
    rejected: list[Rejection] = field(default_factory=list)


def take_events(batch: Sequence[Event], log: ListLog, now: float | None = None) -> Receipt:
    """Keep the events whose list showed their product; reject the rest with a reason.

    A list still waiting in the log's queue counts as served, so a click right after its list
    is accepted. Durable when it returns (EventStoreUnavailable if the store is down).
    """
    now = time.time() if now is None else now
    ranking_ids = {e.ranking_id for e in batch}
    waiting = log.waiting(ranking_ids)
    shown = {rid: {s.product_id for s in record.shown} for rid, record in waiting.items()}
    users = {rid: record.user_id for rid, record in waiting.items()}
    unknown = ranking_ids - shown.keys()
    shown.update(log.store.shown_products(unknown))
    users.update(log.store.list_users(unknown & shown.keys()))

    kept: list[StoredEvent] = []
    rejected: list[Rejection] = []
    outcomes: Counter[tuple[str, str]] = Counter()
    for index, event in enumerate(batch):
        at = event_time(event.timestamp, now)
        reason = _why_not(event, shown, at)
        if reason is not None:
            rejected.append(Rejection(index, reason))
            outcomes[(event.type, "rejected")] += 1
            continue
        assert isinstance(at, float)
        kept.append(
            StoredEvent(
                type=event.type,
                ranking_id=event.ranking_id,
                product_id=event.product_id,
                user_id=event.user_id or users.get(event.ranking_id),
                event_id=event.event_id,
                at=at,
                received_at=now,
            )
        )
    new = log.store.add_events(kept)
    new_ids = {id(e) for e in new}
    for taken in kept:
        outcomes[(taken.type, "accepted" if id(taken) in new_ids else "duplicate")] += 1
    for (kind, outcome), count in outcomes.items():
        metrics.EVENTS.labels(kind, outcome).inc(count)
    return Receipt(accepted=len(new), duplicates=len(kept) - len(new), rejected=rejected)


def _why_not(event: Event, shown: dict[str, set[str]], at: float | str) -> str | None:
    if isinstance(at, str):
        return at
    products = shown.get(event.ranking_id)
    if products is None:
        return f"unknown ranking_id {event.ranking_id!r}: send the ranking_id of a served list"
    if event.product_id not in products:
        return f"product {event.product_id!r} was not in list {event.ranking_id!r}"
    return None
