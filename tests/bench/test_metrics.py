"""The metric functions against hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench import metrics


def test_precision_counts_matching_slots_out_of_k() -> None:
    types = ["Shirts", "Tshirts", "Shirts", "Tshirts", "Jeans"]  # 2-2-1: a tie between types
    assert metrics.precision_at_k("Shirts", types, 5) == pytest.approx(2 / 5)
    assert metrics.precision_at_k("Tshirts", types, 5) == pytest.approx(2 / 5)
    assert metrics.precision_at_k("Jeans", types, 5) == pytest.approx(1 / 5)


def test_precision_short_lists_and_unknown_types_are_misses() -> None:
    assert metrics.precision_at_k("Shirts", ["Shirts", "Shirts"], 5) == pytest.approx(2 / 5)
    assert metrics.precision_at_k("Shirts", ["Shirts", None, None, None, None], 5) == 0.2
    assert metrics.precision_at_k(None, [None] * 5, 5) == 0.0
    assert metrics.precision_at_k("Shirts", ["Shirts"] * 7, 5) == 1.0


def test_consistency_majority_and_ties_broken_by_rank() -> None:
    assert metrics.category_consistency("Shirts", ["Shirts", "Jeans", "Shirts", "Shirts", "Tops"])
    assert not metrics.category_consistency("Jeans", ["Shirts", "Jeans", "Shirts", "Tops", "Tops"])
    tie = ["Tshirts", "Shirts", "Shirts", "Tshirts", "Jeans"]  # Tshirts and Shirts both twice
    assert metrics.category_consistency("Tshirts", tie) == 1.0  # ranked first, wins the tie
    assert metrics.category_consistency("Shirts", tie) == 0.0
    assert metrics.category_consistency("Shirts", []) == 0.0


def test_spread_is_distinct_types_over_k() -> None:
    assert metrics.category_spread(["A", "A", "A", "A", "A"], 5) == pytest.approx(0.2)
    assert metrics.category_spread(["A", "B", "A", "C", "B"], 5) == pytest.approx(0.6)
    assert metrics.category_spread(["A", "B", "C", "D", "E"], 5) == 1.0


def test_ild_of_known_lists() -> None:
    e1, e2, e3 = np.eye(3, dtype=np.float32)
    # Orthogonal pairs: distance 1 each.
    assert metrics.intra_list_distance(np.stack([e1, e2, e3])) == pytest.approx(1.0)
    # Identical vectors: distance 0; opposite: 2.
    assert metrics.intra_list_distance(np.stack([e1, e1])) == pytest.approx(0.0)
    assert metrics.intra_list_distance(np.stack([e1, -e1])) == pytest.approx(2.0)
    # e1, e1, e2: pairs (0, 1, 1) → mean 2/3; norms are ignored.
    assert metrics.intra_list_distance(np.stack([e1, 3 * e1, e2])) == pytest.approx(2 / 3)
    # 60° apart: 1 − cos 60° = 0.5.
    sixty = np.array([0.5, math.sqrt(3) / 2, 0.0], dtype=np.float32)
    assert metrics.intra_list_distance(np.stack([e1, sixty])) == pytest.approx(0.5)
    assert metrics.intra_list_distance(e1[None, :]) == 0.0


def test_jaccard() -> None:
    assert metrics.jaccard([1, 2, 3], [3, 2, 1]) == 1.0
    assert metrics.jaccard([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(2 / 6)
    assert metrics.jaccard([], []) == 1.0


def test_bootstrap_interval_contains_the_mean_and_narrows_with_n() -> None:
    rng = np.random.default_rng(0)
    small = metrics.bootstrap_mean(rng.random(100), seed=1)
    large = metrics.bootstrap_mean(rng.random(10_000), seed=1)
    for interval in (small, large):
        assert interval.low <= interval.mean <= interval.high
    assert large.high - large.low < small.high - small.low
    assert large.low < 0.5 < large.high


def test_bootstrap_is_seeded_and_degenerate_samples_have_zero_width() -> None:
    values = [0.0, 1.0, 1.0, 0.0, 1.0]
    assert metrics.bootstrap_mean(values, seed=3) == metrics.bootstrap_mean(values, seed=3)
    constant = metrics.bootstrap_mean([0.4] * 10, seed=0)
    assert constant.low == constant.mean == constant.high == pytest.approx(0.4)
    assert math.isnan(metrics.bootstrap_mean([], seed=0).mean)


def test_latency_percentiles() -> None:
    sample = metrics.latency(np.arange(1, 101, dtype=float))
    assert sample.p50 == pytest.approx(50.5)
    assert sample.p95 == pytest.approx(95.05)
    assert sample.p99 == pytest.approx(99.01)
    assert sample.count == 100 and sample.mean == pytest.approx(50.5)


def test_is_flat() -> None:
    assert metrics.is_flat([100, 101, 99, 100, 102, 100, 101, 100])
    assert not metrics.is_flat([100, 110, 120, 130, 140, 150, 160, 170])
    assert metrics.is_flat([5.0])
