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
from recommend.pipeline import Recalled

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
SCORE_DECIMALS = 6  # what answers round scores to
COLUMN = {name: i for i, name in enumerate(FEATURES)}
MODEL_CODES = {name: i for i, name in enumerate(MODELS)}
PayloadOf = Callable[[str], Mapping[str, Any] | None]


class Candidate(Protocol):
    """A shown product as an answer lists it: its id and the scores it was served with."""

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


def recalled_of(candidates: Sequence[Candidate], payload_of: PayloadOf) -> Recalled:
    """The columns of the products an answer lists (to log a served list's features)."""
    return Recalled(
        product_ids=[c.product_id for c in candidates],
        payloads=[payload_of(c.product_id) or {} for c in candidates],
        ann_score=np.array([c.ann_score for c in candidates], dtype=np.float64),
        category_similarity=np.array([c.category_similarity for c in candidates], np.float64),
        category_match=np.array([c.category_match for c in candidates], dtype=bool),
        recall_rank=np.array([c.recall_rank for c in candidates], dtype=np.int64),
    )


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
        candidates: Recalled,
        model: str,
        user_id: str | None,
    ) -> npt.NDArray[np.float64]:
        """The feature matrix of `candidates` (one row each, columns `FEATURES`), filled a
        column at a time."""
        ids, payloads = candidates.product_ids, candidates.payloads
        rows = np.zeros((len(ids), len(FEATURES)))
        for name in ("ann_score", "category_similarity"):  # as answers show them
            rows[:, COLUMN[name]] = np.round(getattr(candidates, name), SCORE_DECIMALS)
        rows[:, COLUMN["category_match"]] = candidates.category_match
        rows[:, COLUMN["recall_rank"]] = candidates.recall_rank
        rows[:, COLUMN["model"]] = MODEL_CODES.get(model, -1)
        for facet in FACETS:
            wanted = None if query is None else query.get(facet)
            if wanted is not None:
                rows[:, COLUMN[f"same_{facet}"]] = [p.get(facet) == wanted for p in payloads]
        popularity = self.popularity
        counts = np.array([popularity.get(i, (0, 0)) for i in ids], dtype=np.float64)
        counts = counts.reshape(len(ids), 2)
        rows[:, COLUMN["impressions"]], rows[:, COLUMN["clicks"]] = counts[:, 0], counts[:, 1]
        prior = PRIOR_WEIGHT * self.prior_ctr
        rows[:, COLUMN["smoothed_ctr"]] = (counts[:, 1] + prior) / (counts[:, 0] + PRIOR_WEIGHT)
        shopper_clicks = self.profiles.clicks(user_id)
        if shopper_clicks:
            first = COLUMN[f"affinity_{FACETS[0]}"]
            rows[:, first : first + len(FACETS)] = [
                self.profiles.affinity(user_id, p) for p in payloads
            ]
        rows[:, COLUMN["shopper_clicks"]] = shopper_clicks
        return rows
