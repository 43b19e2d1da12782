"""Pure metric functions of the benchmarks (numpy only, no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.floating]


def precision_at_k(query_type: str | None, result_types: Sequence[str | None], k: int) -> float:
    """Fraction of k slots holding a result of the query's type (missing results count as misses)."""
    if query_type is None:
        return 0.0
    return sum(t == query_type for t in result_types[:k]) / k


def category_consistency(query_type: str | None, result_types: Sequence[str | None]) -> float:
    """1.0 if the most frequent type of the results is the query's (ties: first in rank order)."""
    known = [t for t in result_types if t is not None]
    if query_type is None or not known:
        return 0.0
    counts = Counter(known)  # insertion order = rank order, so most_common breaks ties by rank
    return float(counts.most_common(1)[0][0] == query_type)


def category_spread(result_types: Sequence[str | None], k: int) -> float:
    """Distinct types among the results divided by k."""
    return len(set(result_types[:k])) / k


def intra_list_distance(vectors: Floats) -> float:
    """Mean pairwise cosine distance (1 − cosine) among the rows of a list; 0 for fewer than 2."""
    n = len(vectors)
    if n < 2:
        return 0.0
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ unit.T
    upper = cosines[np.triu_indices(n, k=1)]
    return float(np.mean(1.0 - upper))


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Size of the intersection over the union of two id sets (1 for two empty sets)."""
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 1.0


@dataclass(frozen=True)
class Interval:
    """A mean and its percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {"mean": self.mean, "low": self.low, "high": self.high}


def bootstrap_mean(
    values: Sequence[float] | Floats, seed: int, resamples: int = 2000, level: float = 0.95
) -> Interval:
    """The mean of `values` with a percentile bootstrap interval at `level`."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(data.mean()), float(low), float(high))


@dataclass(frozen=True)
class Latency:
    """Percentiles of a latency sample, in milliseconds."""

    p50: float
    p95: float
    p99: float
    mean: float
    count: int

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "mean": self.mean,
            "n": self.count,
        }


def latency(milliseconds: Sequence[float] | Floats) -> Latency:
    """p50/p95/p99 and mean of a latency sample."""
    data = np.asarray(milliseconds, dtype=np.float64)
    if data.size == 0:
        nan = float("nan")
        return Latency(nan, nan, nan, nan, 0)
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    return Latency(float(p50), float(p95), float(p99), float(data.mean()), int(data.size))


def is_flat(samples: Sequence[float], tolerance: float = 0.1) -> bool:
    """True if the last quarter of a series stays within `tolerance` (relative) of its first quarter."""
    data = np.asarray(samples, dtype=np.float64)
    if data.size < 4:
        return True
    quarter = data.size // 4
    start, end = data[:quarter].mean(), data[-quarter:].mean()
    return bool(abs(end - start) <= tolerance * start)
