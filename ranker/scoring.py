"""The learned ranker bound to one request (the pipeline's `Scorer`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client import Histogram

from ranker.features import FeatureState
from ranker.model import LearnedRanker
from recommend.pipeline import Recalled

PREDICT_SECONDS = Histogram(
    "lookalike_ranker_predict_seconds",
    "Learned ranker time per request: features, scores and contributions",
    buckets=[0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
)


class LearnedScorer:
    """Features of the request's candidates, the model's scores and its explanations."""

    def __init__(
        self,
        ranker: LearnedRanker,
        state: FeatureState,
        query: Mapping[str, Any] | None,
        model: str,
        user_id: str | None,
    ) -> None:
        self.ranker, self.state = ranker, state
        self.query, self.model, self.user_id = query, model, user_id
        self._rows: npt.NDArray[np.float64] = np.zeros((0, 0))
        self.chosen: npt.NDArray[np.float64] | None = None  # the explained rows
        self.seconds = 0.0

    def score(self, candidates: Recalled) -> npt.NDArray[np.float64]:
        """Every candidate's score."""
        started = time.perf_counter()
        self._rows = self.state.rows(self.query, candidates, self.model, self.user_id)
        scores = self.ranker.scores(self._rows)
        self.seconds += time.perf_counter() - started
        return scores

    def explain(self, chosen: Sequence[int]) -> list[tuple[tuple[str, float], ...]]:
        """The three largest feature contributions of each chosen candidate."""
        started = time.perf_counter()
        self.chosen = self._rows[list(chosen)]
        explained = self.ranker.contributions(self.chosen)
        self.seconds += time.perf_counter() - started
        PREDICT_SECONDS.observe(self.seconds)
        return explained
