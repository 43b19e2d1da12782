"""The ranker's features: one function computes them for serving, the same values are logged
with every served list, and training reads them from the log (never recomputed afterwards).

Per candidate: the scores it was served with (ANN, category similarity, category match, recall
rank) and the model; whether it shares each facet value with the query product; its popularity
over a recent window (impressions, clicks, smoothed CTR); and the shopper's affinity to it (the
share of their clicks that went to its value of each facet).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from core.registry import MODELS
from events.store import EventStore, EventStoreUnavailable
from ranker.profiles import Profiles

log = logging.getLogger("lookalike.ranker")
# The facets the features compare, in the order trained models know them. Still the Fashion
# catalogue's (issue 22: the ranker does not read the catalogue schema yet).
FACETS: tuple[str, ...] = (
    "articleType",
    "subCategory",
    "masterCategory",
    "gender",
    "baseColour",
    "season",
    "usage",
)
SCORES = ("ann_score", "category_similarity", "category_match", "recall_rank", "model")
POPULARITY = ("impressions", "clicks", "smoothed_ctr")
FEATURES: tuple[str, ...] = (
    *SCORES,
    *(f"same_{f}" for f in FACETS),
    *POPULARITY,
    *(f"affinity_{f}" for f in FACETS),
    "shopper_clicks",
)
WINDOW_S = 7 * 24 * 3600.0  # popularity and taste look this far back
POPULARITY_EVERY_S = 30.0
EVENTS_EVERY_S = 1.0
PRIOR_WEIGHT = 20.0  # smoothed CTR = (clicks + w · mean CTR) / (impressions + w)
MODEL_CODES = {name: i for i, name in enumerate(MODELS)}
PayloadOf = Callable[[str], Mapping[str, Any] | None]


class Candidate(Protocol):
    """What a candidate needs for its features: its id and the scores it was served with."""

    @property
    def product_id(self) -> str: ...
    @property
    def ann_score(self) -> float: ...
    @property
    def category_similarity(self) -> float: ...
    @property
    def category_match(self) -> bool: ...
    @property
    def recall_rank(self) -> int: ...


class FeatureState:
    """Popularity (a snapshot, refreshed every `POPULARITY_EVERY_S`) and shoppers' profiles
    (following the event store every second), with the features computed from them."""

    def __init__(self, store: EventStore, payload_of: PayloadOf) -> None:
        self.store = store
        self.payload_of = payload_of
        self.profiles = Profiles(FACETS)
        self.popularity: dict[str, tuple[int, int]] = {}
        self.prior_ctr = 0.0
        self.epoch = 0  # when the popularity snapshot was taken (part of cache keys)
        self._seq = 0
        self._sync = threading.Lock()
        self._stop = threading.Event()
        self.refresh_popularity()
        self.follow_events()

    def follow_events(self) -> int:
        """Take in the events kept since the last call (this process's and others'); returns
        how many clicks it added to the profiles."""
        with self._sync:
            try:
                new = self.store.events_after(self._seq, since=time.time() - WINDOW_S)
            except EventStoreUnavailable as exc:
                log.warning("shopper profiles not updated: %s", exc)
                return 0
            if not new:
                return 0
            self._seq = new[-1][0]
            clicks = [(e.user_id, e.product_id) for _, e in new if e.type == "click" and e.user_id]
            self.profiles.add(clicks, self.payload_of)
            return len(clicks)

    def refresh_popularity(self) -> None:
        """Take a new popularity snapshot of the recent window."""
        try:
            counts = self.store.popularity(time.time() - WINDOW_S)
        except EventStoreUnavailable as exc:
            log.warning("popularity not refreshed: %s", exc)
            return
        shown = sum(n for n, _ in counts.values())
        self.prior_ctr = sum(c for _, c in counts.values()) / shown if shown else 0.0
        self.popularity, self.epoch = counts, int(time.time())

    def watch(self) -> None:
        """Follow events every second and refresh popularity, in a background thread."""

        def loop() -> None:
            last = time.monotonic()
            while not self._stop.wait(EVENTS_EVERY_S):
                self.follow_events()
                if time.monotonic() - last >= POPULARITY_EVERY_S:
                    self.refresh_popularity()
                    last = time.monotonic()

        threading.Thread(target=loop, name="ranker-features", daemon=True).start()

    def close(self) -> None:
        """Stop following."""
        self._stop.set()

    def rows(
        self,
        query: Mapping[str, Any] | None,
        candidates: Sequence[Candidate],
        model: str,
        user_id: str | None,
    ) -> npt.NDArray[np.float64]:
        """The feature matrix of `candidates` (one row each, columns `FEATURES`)."""
        code = MODEL_CODES.get(model, -1)
        shopper_clicks = self.profiles.clicks(user_id)
        wanted = [(f, query.get(f)) for f in FACETS] if query is not None else []
        rows = []
        for c in candidates:
            payload = self.payload_of(c.product_id) or {}
            shown, clicked = self.popularity.get(c.product_id, (0, 0))
            smoothed = (clicked + PRIOR_WEIGHT * self.prior_ctr) / (shown + PRIOR_WEIGHT)
            same = (
                [float(v is not None and payload.get(f) == v) for f, v in wanted]
                if wanted
                else [0.0] * len(FACETS)
            )
            rows.append(
                [
                    c.ann_score,
                    c.category_similarity,
                    float(c.category_match),
                    c.recall_rank,
                    code,
                    *same,
                    shown,
                    clicked,
                    smoothed,
                    *self.profiles.affinity(user_id, payload),
                    shopper_clicks,
                ]
            )
        return np.array(rows, dtype=np.float64).reshape(len(candidates), len(FEATURES))
