"""The statistics against hand-worked examples (the textbook formulas, computed here by hand)."""

from __future__ import annotations

import math

import pytest

from events.store import ExperimentRun, RunCounts
from experiments.stats import ctr_interval, lift_test, results, sign_test, srm_p_value


def test_two_proportion_z_test_matches_the_worked_example() -> None:
    # 120 of 200 against 150 of 300: pooled p = 270/500 = 0.54,
    # SE = sqrt(0.54 · 0.46 · (1/200 + 1/300)) = 0.045497, z = 0.10 / 0.045497 = 2.1979,
    # two-sided p = 2 · (1 − Φ(2.1979)) = 0.02796.
    lift, interval, p_value = lift_test(120, 200, 150, 300)
    assert lift is not None and lift == pytest.approx(0.6 / 0.5 - 1)
    assert p_value == pytest.approx(0.02796, abs=5e-5)
    assert interval is not None and interval[0] < lift < interval[1]
    assert interval[0] > 0  # significant at 5 %: the interval excludes no lift


def test_wilson_interval_matches_the_worked_example() -> None:
    # 120 of 200, z = 1.96: centre (0.6 + z²/400) / (1 + z²/200) = 0.59811,
    # half-width z · sqrt(0.6 · 0.4 / 200 + z² / 160000) / (1 + z²/200) = 0.06728.
    ctr, interval = ctr_interval(120, 200)
    assert ctr == 0.6
    assert interval == pytest.approx([0.59811 - 0.06728, 0.59811 + 0.06728], abs=1e-4)
    assert ctr_interval(0, 0) == (None, None)


def test_sample_ratio_and_sign_tests() -> None:
    # chi-square of 520 / 480 against 50 / 50: (20² + 20²) / 500 = 1.6 on 1 df → p = 0.2059.
    assert srm_p_value([520, 480], [1.0, 1.0]) == pytest.approx(0.2059, abs=1e-4)
    # 9 wins, 1 loss: two-sided binomial p = 2 · (C(10,9) + C(10,10)) / 2¹⁰ = 22/1024.
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert sign_test(0, 0) is None and srm_p_value([0, 0], [1.0, 1.0]) is None


def test_results_count_every_arm_exactly() -> None:
    run = ExperimentRun(
        1, "exp", "ab", [{"name": "a", "weight": 1.0}, {"name": "b", "weight": 1.0}], 0.0, None
    )
    counts = RunCounts(
        lists={"a": 200, "b": 300},
        users={"a": 20, "b": 30},
        total_lists=500,
        total_users=50,
        events={("a", "click"): 130, ("b", "click"): 160, ("b", "purchase"): 4},
        lists_with={("a", "click"): 120, ("b", "click"): 150, ("b", "purchase"): 4},
        team_clicks={},
    )
    first, second = results(run, counts).arms
    assert (first.lists, first.lists_clicked, first.clicks, first.ctr) == (200, 120, 130, 0.6)
    assert first.lift is None and first.p_value is None
    assert second.purchases == 4 and second.p_value == pytest.approx(0.02796, abs=5e-5)
    assert math.isclose(second.lift or 0, 0.5 / 0.6 - 1)
