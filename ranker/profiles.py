"""Shoppers' recent taste, in memory: how many of their clicks went to each facet value.

Bounded (the least recently active shoppers are forgotten first) and rebuilt from the event
store at start, so it survives a restart; accepted events update it at once.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MAX_SHOPPERS = 100_000
MAX_VALUES = 256  # distinct (facet, value) pairs kept per shopper


class Profiles:
    """Clicks per (facet, value) for each shopper."""

    def __init__(self, facets: tuple[str, ...], max_shoppers: int = MAX_SHOPPERS) -> None:
        self.facets = facets
        self.max_shoppers = max_shoppers
        self._clicks: OrderedDict[str, Counter[tuple[str, str]]] = OrderedDict()
        self._totals: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(
        self,
        clicks: Iterable[tuple[str, str]],
        payload_of: Callable[[str], Mapping[str, Any] | None],
    ) -> None:
        """Count clicks, given as (shopper, product id)."""
        with self._lock:
            for user_id, product_id in clicks:
                payload = payload_of(product_id) or {}
                counts = self._clicks.pop(user_id, None) or Counter()
                for facet in self.facets:
                    value = payload.get(facet)
                    if value is not None and (len(counts) < MAX_VALUES or (facet, value) in counts):
                        counts[(facet, str(value))] += 1
                self._clicks[user_id] = counts  # now the most recent
                self._totals[user_id] = self._totals.get(user_id, 0) + 1
                while len(self._clicks) > self.max_shoppers:
                    forgotten, _ = self._clicks.popitem(last=False)
                    self._totals.pop(forgotten, None)

    def clicks(self, user_id: str | None) -> int:
        """How many clicks of this shopper are remembered (0: no history)."""
        return self._totals.get(user_id, 0) if user_id else 0

    def affinity(self, user_id: str | None, payload: Mapping[str, Any]) -> list[float]:
        """For each facet, the share of the shopper's clicks that share the product's value."""
        total = self.clicks(user_id)
        if not total or user_id is None:
            return [0.0] * len(self.facets)
        counts = self._clicks.get(user_id) or Counter()
        return [counts.get((f, str(payload.get(f))), 0) / total for f in self.facets]

    def __len__(self) -> int:
        return len(self._clicks)
