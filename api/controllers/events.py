"""`POST /events`: shoppers' clicks, add-to-carts and purchases on served lists."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency

from api.auth import require_events_key
from api.errors import ApiError
from api.views import errors, json_value, unavailable
from events.intake import take_events
from events.model import MAX_BATCH, Event
from events.store import EventStoreUnavailable
from service.learning import ShopperLoop

MAX_EVENTS_BODY = 1024 * 1024  # 1,000 events of ~300 bytes, with room


class Rejected(msgspec.Struct, kw_only=True):
    """An event of the batch that was not taken, and why."""

    index: int
    reason: str


class EventsTaken(msgspec.Struct, kw_only=True):
    """What happened to a batch of events."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


def parse_events(raw: Any) -> list[Event]:
    """One event or a list of at most 1,000, or a 400 naming the field at fault."""
    items = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and not 1 <= len(raw) <= MAX_BATCH:
        raise ApiError(
            400, f"send 1 to {MAX_BATCH:,} events per request, not {len(raw):,}", "events"
        )
    events = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(raw, list) else ""
        try:
            events.append(msgspec.convert(item, Event))
        except msgspec.ValidationError as exc:
            text = str(exc)
            inner = text.rsplit("at `$", 1)[-1].rstrip("`") if "at `$" in text else ""
            field = (where + inner).lstrip(".") or "body"
            raise ApiError(400, f"event {where or ''}: {text}".replace(" :", ":"), field) from exc
    return events


class EventsController(Controller):
    """Shopper events, durable once answered."""

    path = "/events"

    @post(
        guards=[require_events_key],
        status_code=202,
        request_max_body_size=MAX_EVENTS_BODY,
        responses=errors(400, 401, 413, 503),
    )
    async def post_events(
        self, loop: NamedDependency[ShopperLoop], request: Request[Any, Any, Any]
    ) -> EventsTaken:
        """Take one event or a list of up to 1,000: `{"type": "click" | "add_to_cart" |
        "purchase", "ranking_id", "product_id", "user_id", "event_id", "timestamp"}`.

        Each event is checked against the list its `ranking_id` names (it must have shown the
        product); invalid ones are listed under `rejected` with the reason, the rest kept. A
        repeated `event_id` counts once. Accepted events are on disk when this answers.
        """
        events = parse_events(json_value(await request.body(), "body"))
        try:
            receipt = await loop.in_thread(take_events, events, loop.log)
            if receipt.accepted:  # shoppers' profiles take the new clicks at once
                await loop.in_thread(loop.features.follow_events)
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "nothing was kept: send the events again") from exc
        return EventsTaken(
            accepted=receipt.accepted,
            duplicates=receipt.duplicates,
            rejected=[Rejected(index=r.index, reason=r.reason) for r in receipt.rejected],
        )
