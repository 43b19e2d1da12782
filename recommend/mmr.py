"""Maximal Marginal Relevance: trade relevance to the query against redundancy in the list."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]


def mmr_select(query_sims: Floats, candidates: Floats, k: int, lambda_: float) -> list[int]:
    """Indices of `k` candidates chosen greedily by `λ·sim(q,d) − (1−λ)·max sim(d, selected)`.

    `query_sims[i]` is the cosine between the query and candidate `i`, `candidates` their unit
    vectors (n, dim). Candidates are expected in recall order, so ties go to the better ANN rank
    (argmax returns the first maximum), which makes the choice deterministic. λ=1 returns plain
    top-k by `query_sims`.
    """
    n = len(query_sims)
    k = min(k, n)
    if k == 0:
        return []
    relevance = lambda_ * query_sims.astype(np.float64)
    best = int(np.argmax(query_sims))  # nothing selected yet: the most relevant comes first
    chosen = [best]
    available = np.ones(n, dtype=bool)
    available[best] = False
    redundancy = candidates @ candidates[best]
    for _ in range(k - 1):
        scores = np.where(available, relevance - (1.0 - lambda_) * redundancy, -np.inf)
        best = int(np.argmax(scores))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, candidates @ candidates[best])
    return chosen
