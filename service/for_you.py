"""`GET /recommend/for-you`: a shopper's recent clicks, add-to-carts and purchases become the
positive examples of an `average_vector` list, the newest weighted most."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.ids import parse_product_id
from events.model import StoredEvent
from service.errors import RequestError
from service.examples import ExampleIds

RECENT = 10  # how many of the newest distinct products become positives
DECAY = 0.7  # each older product weighs this much less than the one after it
LOOKBACK_S = 30 * 24 * 3600.0  # events older than 30 days are not read


@dataclass(frozen=True)
class Session:
    """The examples a shopper's history gives, and the events they came from (newest first)."""

    examples: ExampleIds
    used: list[tuple[StoredEvent, float]]  # each event used, with its product's weight


def session_of(user_id: str, events: Sequence[StoredEvent], held: Collection[int]) -> Session:
    """The newest `RECENT` distinct products the shopper acted on (that the model holds, in
    `held`) with weights `DECAY ** rank`; every product bought is excluded from the list.
    A 404 saying so when there is no such history."""
    newest_first = sorted(events, key=lambda e: -e.at)
    bought = {
        i for e in newest_first if e.type == "purchase" and (i := parse_product_id(e.product_id))
    }
    weights: dict[int, float] = {}
    used = []
    for event in newest_first:
        product = parse_product_id(event.product_id)
        if product is None or product not in held:
            continue
        if product not in weights:
            if len(weights) == RECENT:
                break
            weights[product] = DECAY ** len(weights)
        used.append((event, weights[product]))
    if not weights:
        raise RequestError(
            404,
            f"shopper {user_id!r} has no clicks, add-to-carts or purchases of products this model "
            "holds in the last 30 days; show your default list instead",
            "user_id",
        )
    examples = ExampleIds(
        tuple(weights), (), "average_vector", tuple(weights.values()), frozenset(bought)
    )
    return Session(examples, used)
