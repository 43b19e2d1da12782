"""Simulated shoppers: hidden tastes and a position bias decide what they click and buy.

What they prefer (the README says it plainly; nothing in the serving path reads it):
- products of the same type as the one they are looking at (an articleType match),
- their own two favourite colours (drawn per shopper, never sent to the API),
- products for their own gender (or unisex);
and they look at lower positions less (examination probability 1 / position^0.5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# The catalogue's most frequent colours; every shopper likes two of them.
COLOURS = (
    "Black",
    "White",
    "Blue",
    "Brown",
    "Grey",
    "Red",
    "Green",
    "Pink",
    "Navy Blue",
    "Purple",
    "Silver",
    "Yellow",
    "Beige",
    "Gold",
    "Maroon",
    "Orange",
)
GENDERS = ("Men", "Women")
POSITION_BIAS = 0.5
BASE = 0.04  # attraction of a product with nothing going for it
SAME_TYPE = 0.10
FAVOURITE_COLOUR = 0.55
OWN_GENDER = 0.08
ADD_TO_CART = 0.35  # after a click
PURCHASE = 0.4  # after an add-to-cart


@dataclass(frozen=True)
class Shopper:
    """One simulated shopper: an id the API sees, and tastes it never sees."""

    user_id: str
    colours: frozenset[str]
    gender: str

    @classmethod
    def draw(cls, index: int, rng: random.Random) -> Shopper:
        """A shopper with two favourite colours and a gender."""
        return cls(f"sim-{index}", frozenset(rng.sample(COLOURS, 2)), rng.choice(GENDERS))

    def attraction(self, result: dict[str, Any], query_type: str | None) -> float:
        """How likely this shopper clicks the product once they look at it."""
        p = BASE
        if query_type is not None and result.get("articleType") == query_type:
            p += SAME_TYPE
        if result.get("baseColour") in self.colours:
            p += FAVOURITE_COLOUR
        if result.get("gender") in (self.gender, "Unisex"):
            p += OWN_GENDER
        return min(p, 0.95)


def examined(position: int) -> float:
    """Probability that a shopper looks at the product at `position` (1-based)."""
    return float(position**-POSITION_BIAS)


def react(
    shopper: Shopper, results: list[dict[str, Any]], query_type: str | None, rng: random.Random
) -> list[tuple[str, str]]:
    """The events (type, product id) one shopper sends for one list, in order."""
    events = []
    for position, result in enumerate(results, start=1):
        if rng.random() >= examined(position) * shopper.attraction(result, query_type):
            continue
        events.append(("click", result["product_id"]))
        if rng.random() < ADD_TO_CART:
            events.append(("add_to_cart", result["product_id"]))
            if rng.random() < PURCHASE:
                events.append(("purchase", result["product_id"]))
    return events
