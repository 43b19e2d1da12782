"""`lookalike bench learning` end to end on the tiny data folder: real servers, real stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from lookalike.cli import main

LISTS_PER_ARM = 600
EVENTS = 2_000
EXPLORE_LISTS = 600  # enough clicked lists to train the next model on


@pytest.fixture(scope="module")
def learning(bench_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of one small `bench learning` run through the CLI."""
    out = tmp_path_factory.mktemp("learning-results")
    argv = ["--data-dir", str(bench_settings.data_dir), "bench", "learning", "--out", str(out)]
    argv += ["--lists-per-arm", str(LISTS_PER_ARM), "--lift-lists-per-arm", "100"]
    argv += ["--explore-lists", str(EXPLORE_LISTS), "--events", str(EVENTS)]
    argv += ["--train-minutes", "0.05"]
    argv += ["--log-seconds", "1", "--log-pairs", "1", "--seed", "5"]
    assert main(argv) == 0
    return out


def _document(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "learning.json").read_text())
    return loaded


def test_experiments_count_every_list_and_read_their_p_value_as_they_go(learning: Path) -> None:
    doc = _document(learning)
    for key, lists in (("models_ab", 2 * LISTS_PER_ARM), ("ranker_ab", 2 * LISTS_PER_ARM)):
        result = doc[key]["result"]
        assert sum(arm["lists"] for arm in result["arms"]) == lists
        assert result["arms"][0]["lift"] is None and result["arms"][1]["p_value"] is not None
        assert doc[key]["trajectory"][-1]["lists"] == lists
    for key in ("models_interleave", "ranker_interleave"):
        result = doc[key]["result"]
        assert result["wins"] + result["losses"] + result["ties"] == LISTS_PER_ARM
        settled = doc[key]["lists_to_significance"]
        assert settled is None or 0 < settled <= LISTS_PER_ARM


def test_the_ranker_is_trained_measured_and_costed(learning: Path) -> None:
    doc = _document(learning)
    metrics = doc["ranker"]["metrics"]
    assert 0.0 < metrics["ndcg5_learned"] <= 1.0 and 0.0 < metrics["ndcg5_served"] <= 1.0
    assert set(metrics["position_bias"]) == {"feature", "lightgbm", "none"}
    sizes = [point["training_lists"] for point in doc["lift_vs_data"]]
    assert sizes == sorted(sizes) and len(sizes) == 5
    cost = doc["ranker_cost"]
    assert cost["static"]["requests"] > 0 and cost["learned"]["requests"] > 0
    assert 0.0 < cost["model_ms"]["predict_50"]["p50_ms"] < cost["learned"]["p50_ms"]


def test_events_logging_and_exploration_are_measured(learning: Path) -> None:
    doc = _document(learning)
    for store in ("events_embedded", "events_postgres"):
        assert doc[store]["accepted"] == EVENTS and doc[store]["per_second"] > 0
    assert doc["logging"]["ratio"] > 0 and len(doc["logging"]["runs"]["on"]) == 1
    explore = doc["exploration"]
    assert explore["lists"]["explored"] > 0 and explore["lists"]["other"] > 0
    assert sum(explore["lists"].values()) == EXPLORE_LISTS
    for trained in explore["next_model"].values():  # what exploration gives the next model
        assert trained["training_lists"] > 0 and trained["lift_ci"] is not None


def test_the_report_has_the_section_and_the_plot(learning: Path) -> None:
    report = (learning / "REPORT.md").read_text()
    assert "## Learning from shoppers" in report and "![learning](learning.png)" in report
    assert "What it gives the next model" in report
    assert (learning / "learning.png").stat().st_size > 1000


def test_a_run_of_some_phases_keeps_the_others_results(
    learning: Path, bench_settings: Settings
) -> None:
    before = _document(learning)
    argv = ["--data-dir", str(bench_settings.data_dir), "bench", "learning", "--out"]
    argv += [str(learning), "--phases", "logging", "--log-seconds", "1", "--log-pairs", "1"]
    assert main(argv) == 0
    after = _document(learning)
    assert after["models_ab"] == before["models_ab"]
    assert after["exploration"] == before["exploration"]
    assert after["logging"] != before["logging"]
    assert set(after["phases"]) == set(before["phases"])
