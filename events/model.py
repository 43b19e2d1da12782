"""What the event store keeps: served lists with what each shown product scored, and events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

EventType = Literal["click", "add_to_cart", "purchase"]
EVENT_TYPES: tuple[EventType, ...] = ("click", "add_to_cart", "purchase")
MAX_BATCH = 1000
# Shopper ids: what a storefront's session or account id looks like, never free text.
USER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# How far ahead of this server's clock a client's timestamp may be (clock skew) before it
# counts as "in the future".
CLOCK_SKEW_S = 60.0


def valid_user_id(value: str) -> bool:
    """Whether `value` is a shopper id: 1–128 characters of A-Z a-z 0-9 . _ : -."""
    return USER_ID.fullmatch(value) is not None


class Shown(msgspec.Struct, kw_only=True, array_like=True):
    """One product of a served list: where it was shown and its scores as served.

    `team` names the interleaving arm that contributed it; `features` is what a learned ranker
    saw (filled by the ranker; the record is kept as served, never recomputed later).
    """

    product_id: str
    position: int
    score: float
    ann_score: float
    category_similarity: float
    category_match: bool
    recall_rank: int
    team: str | None = None
    propensity: float | None = None
    features: dict[str, float] | None = None


class ServedList(msgspec.Struct, kw_only=True):
    """A list as it was served: who asked, for what, with which parameters, what was shown."""

    ranking_id: str
    served_at: float  # seconds since the epoch, UTC
    user_id: str | None
    route: str  # "recommend" | "search"
    query: str  # the product id, or the text / photo label searched
    model: str
    parameters: dict[str, object]
    experiment: str | None
    arm: str | None
    run_id: int | None  # which run of the experiment (a name can be reused)
    shown: list[Shown]


class Event(msgspec.Struct, kw_only=True):
    """One shopper event as clients send it (`POST /events`; other fields are ignored)."""

    type: EventType
    ranking_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    product_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    user_id: Annotated[str, msgspec.Meta(pattern=USER_ID.pattern)] | None = None
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    timestamp: str | None = None


class StoredEvent(msgspec.Struct, kw_only=True):
    """An accepted event with its time resolved (the client's, or when it was received)."""

    type: EventType
    ranking_id: str
    product_id: str
    user_id: str | None
    event_id: str | None
    at: float
    received_at: float


def event_time(timestamp: str | None, now: float) -> float | str:
    """The event's time in epoch seconds, or the reason it cannot be taken."""
    if timestamp is None:
        return now
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return f"timestamp {timestamp[:40]!r} is not ISO-8601 (e.g. 2026-12-07T12:00:00Z)"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    at = parsed.timestamp()
    if at > now + CLOCK_SKEW_S:
        return f"timestamp {timestamp} is in the future (server time {_iso(now)})"
    return at


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class AnsweredResult(msgspec.Struct, kw_only=True):
    """A result as `/recommend` and `/search` answers carry it: the part a log record keeps."""

    product_id: str
    score: float
    ann_score: float
    category_similarity: float
    category_match: bool
    recall_rank: int = 0


class Answer(msgspec.Struct, kw_only=True):
    """The results and parameters of an answer body (the rest of the body is not read)."""

    results: list[AnsweredResult]
    parameters: dict[str, object] = msgspec.field(default_factory=dict)
