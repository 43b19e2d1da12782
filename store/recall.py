"""Recall of an approximate search against the exact one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IdRows = Sequence[Sequence[int]] | npt.NDArray[np.int64]


def recall_at_k(approx_ids: IdRows, exact_ids: IdRows, k: int) -> float:
    """Mean share of each query's exact top-k ids that the approximate top-k also returns."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(approx_ids) != len(exact_ids):
        raise ValueError(f"{len(approx_ids)} approximate rows but {len(exact_ids)} exact rows")
    shares = [
        len(set(list(approx)[:k]) & set(truth_k)) / len(truth_k)
        for approx, exact in zip(approx_ids, exact_ids, strict=True)
        if (truth_k := list(exact)[:k])
    ]
    return float(np.mean(shares)) if shares else 1.0
