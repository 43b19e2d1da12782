"""The contribution tables give exactly LightGBM's `pred_contrib`, on any tree shape."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pytest

from ranker.contributions import ContributionTable


def booster(rows: npt.NDArray[np.float64], leaves: int, rounds: int = 60) -> lgb.Booster:
    """A small lambdarank model on `rows` (lists of 10, graded by two of the columns)."""
    rng = np.random.default_rng(1)
    signal = (
        np.nan_to_num(rows[:, 0]) + 0.5 * np.nan_to_num(rows[:, 2]) + rng.normal(0, 0.3, len(rows))
    )
    grades = np.digitize(signal, np.quantile(signal, [0.6, 0.85, 0.95]))
    data = lgb.Dataset(rows, grades, group=[10] * (len(rows) // 10))
    params = {"objective": "lambdarank", "num_leaves": leaves, "min_data_in_leaf": 5, "verbose": -1}
    return lgb.train({**params, "num_threads": 1, "seed": 0}, data, rounds)


def rows_with_gaps(count: int) -> npt.NDArray[np.float64]:
    """Continuous, 0/1 and count columns, some values missing (NaN) and many exact zeros."""
    rng = np.random.default_rng(0)
    rows = np.column_stack(
        [
            rng.normal(size=count),
            rng.integers(0, 2, count).astype(float),
            rng.exponential(size=count) * (rng.random(count) < 0.5),
            rng.integers(0, 30, count).astype(float),
        ]
    )
    rows[rng.random(count) < 0.1, 2] = np.nan
    return rows


@pytest.mark.parametrize("leaves", [2, 7, 11])
def test_tables_equal_lightgbms_pred_contrib(leaves: int) -> None:
    rows = rows_with_gaps(2_000)
    model = booster(rows, leaves)
    table = ContributionTable.of(model)
    assert table is not None
    expected = np.asarray(model.predict(rows, pred_contrib=True))
    np.testing.assert_allclose(table.contributions(rows), expected, atol=1e-12)
    np.testing.assert_allclose(
        table.contributions(rows).sum(axis=1), model.predict(rows), atol=1e-9
    )


def test_zero_as_missing_follows_the_default_direction() -> None:
    rows = rows_with_gaps(2_000)
    rng = np.random.default_rng(2)
    grades = rng.integers(0, 3, len(rows))
    params = {"objective": "lambdarank", "num_leaves": 7, "zero_as_missing": True, "verbose": -1}
    data = lgb.Dataset(rows, grades, group=[10] * 200)
    model = lgb.train({**params, "min_data_in_leaf": 5, "num_threads": 1}, data, 30)
    table = ContributionTable.of(model)
    assert table is not None
    expected = np.asarray(model.predict(rows, pred_contrib=True))
    np.testing.assert_allclose(table.contributions(rows), expected, atol=1e-12)


def test_trees_too_large_for_tables_are_left_to_lightgbm() -> None:
    assert ContributionTable.of(booster(rows_with_gaps(2_000), leaves=31, rounds=5)) is None


def test_a_model_of_single_leaves_has_only_its_bias() -> None:
    rows = rows_with_gaps(200)
    data = lgb.Dataset(rows, np.zeros(200), group=[10] * 20)
    model = lgb.train({"objective": "lambdarank", "verbose": -1, "num_threads": 1}, data, 3)
    table = ContributionTable.of(model)
    assert table is not None
    np.testing.assert_allclose(table.contributions(rows), model.predict(rows, pred_contrib=True))
