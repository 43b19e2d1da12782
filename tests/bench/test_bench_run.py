"""`lookalike bench all` end to end on the tiny data folder, then each benchmark's figures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from bench import speed
from bench.quality import LAMBDAS, LIST_METRICS
from core.settings import Settings
from embed.split import load_split
from lookalike.cli import main
from store import DEFAULT_SEARCH_EF
from tests.bench.conftest import BENCH_MODELS

QUERIES = 20


@pytest.fixture(scope="module")
def results(bench_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of one small `bench all` run through the CLI.

    The Qdrant-server contestant talks to qdrant-client's local mode (no server on CI machines).
    """
    out = tmp_path_factory.mktemp("bench-results")
    argv = ["--data-dir", str(bench_settings.data_dir), "bench", "all", "--out", str(out)]
    argv += ["--queries", str(QUERIES), "--seed", "3", "--sizes", "real"]
    argv += ["--latency-budget", "0.2", "--concurrency", "1", "2", "--seconds", "1", "--soak", "2"]
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(local Qdrant|Local mode)")
        patch.setenv("QDRANT_URL", "local")
        patch.setattr(speed, "connect", lambda url, key: QdrantClient(location=":memory:"))
        assert main(argv) == 0
    return out


def document(results: Path, name: str) -> dict[str, Any]:
    """One benchmark's JSON document."""
    loaded: dict[str, Any] = json.loads((results / f"{name}.json").read_text())
    return loaded


def test_quality_sweeps_every_model_with_sane_metrics(results: Path) -> None:
    quality = document(results, "quality")
    assert quality["queries"] == QUERIES and set(quality["models"]) == set(BENCH_MODELS)
    for result in quality["models"].values():
        sweep = result["lambdas"]
        assert set(sweep) == {f"{lam:.1f}" for lam in LAMBDAS}
        for at in sweep.values():
            for name in LIST_METRICS:
                interval = at[name]
                assert interval["low"] <= interval["mean"] <= interval["high"]
                assert 0.0 <= interval["mean"] <= (2.0 if name.startswith("ild") else 1.0)
            assert at["latency_ms"]["p50"] > 0
        # Clustered vectors: plain top-5 mostly shares the type; pure diversity spreads further.
        assert sweep["1.0"]["precision"]["mean"] > 0.5
        assert sweep["0.0"]["ild_own"]["mean"] > sweep["1.0"]["ild_own"]["mean"]


def test_text_search_scores_every_text_model(results: Path) -> None:
    text = document(results, "text")
    assert set(text["models"]) == {"clip", "hybrid"}  # the text-capable models embedded here
    for result in text["models"].values():
        for name in ("hit_at_5", "top_1", "any_at_5"):
            assert 0.0 <= result[name]["low"] <= result[name]["mean"] <= result[name]["high"] <= 1
    assert len(text["category_neighbours"]) == 10
    assert all(len(nearest) == 3 for nearest in text["category_neighbours"].values())


def test_native_mmr_agrees_with_ours(results: Path) -> None:
    for result in document(results, "quality")["models"].values():
        native = result["native_mmr"]
        assert native["available"] and native["lambda"] == 0.7
        assert native["jaccard"] > 0.9
        assert native["latency_native"]["n"] == QUERIES


def test_recall_measures_every_index_at_every_size(results: Path) -> None:
    recall = document(results, "recall")
    counts = {label: size["count"] for label, size in recall["sizes"].items()}
    assert counts == {"600 (real)": 600}  # other sizes: see test_scaled_real_subset_and_growth
    for size in recall["sizes"].values():
        contestants = size["contestants"]
        assert next(iter(contestants)) == "faiss-flat"  # the ground truth is measured first
        assert set(contestants) == {
            "faiss-flat",
            "faiss-hnsw",
            "qdrant-embedded",
            "qdrant-embedded-int8",
            "qdrant-server",
        } | {f"qdrant-embedded ef={ef}" for ef in speed.QDRANT_EFS if ef != DEFAULT_SEARCH_EF}
        exact = contestants["faiss-flat"]
        assert exact["recall_at_k"] == exact["filtered"]["recall_at_k"] == 1.0
        for name, result in contestants.items():
            assert result["recall_at_k"] > 0.8 and result["filtered"]["recall_at_k"] > 0.8
            assert result["build_s"] > 0
            assert (result["disk_bytes"] is None) == (name == "qdrant-server")
            assert result["latency_ms"]["p50"] > 0 and result["throughput_qps"] > 0
            assert result["filter_slowdown_p50"] > 0


def test_api_load_measures_every_setup_against_its_floor(results: Path) -> None:
    api = document(results, "api")
    assert set(api["uncached"]) == {"1", "2"}
    setups = [api["uncached"], api["cached"], api["redis_workers"]["runs"]]
    for runs in setups:
        for run in runs.values():
            assert run["requests"] > 0 and run["errors"] == 0
            assert run["share_of_health"] > 0 and run["p50_ms"] <= run["p99_ms"]
    assert all(run["hit_rate"] is None for run in api["uncached"].values())
    for runs in setups[1:]:
        assert all(0 < run["hit_rate"] <= 1 for run in runs.values())
    assert set(api["stages_ms"]) == {"recall", "mmr", "rerank"}
    assert api["stages_ms"]["recall"] > 0
    soak = api["soak"]
    assert soak["errors"] == 0 and len(soak["rss"]) >= 2
    assert all(sample["bytes"] > 0 for sample in soak["rss"])


def test_report_and_plots_are_written(results: Path) -> None:
    report = (results / "REPORT.md").read_text()
    for heading in ("## Quality", "## Text search", "## Speed", "## API", "### Soak", "Beside"):
        assert heading in report
    assert "`bench all` took" in report
    for plot in ("frontier.png", "scaling.png", "api.png", "soak.png"):
        assert (results / plot).stat().st_size > 1000
    (results / "REPORT.md").unlink()
    assert main(["bench", "report", "--out", str(results)]) == 0
    assert (results / "REPORT.md").read_text() == report


def test_queries_are_held_out(bench_settings: Settings) -> None:
    from bench.quality import QUALITY_MODELS
    from bench.queries import select_queries

    queries = select_queries(bench_settings, QUALITY_MODELS, QUERIES, seed=3)
    assert queries == select_queries(bench_settings, QUALITY_MODELS, QUERIES, seed=3)
    assert {q.id for q in queries} <= load_split().held_out
    assert len({q.id for q in queries}) == QUERIES


def test_quality_compares_several_examples_with_one(results: Path) -> None:
    quality = document(results, "quality")
    if not quality["sessions"]:  # the tiny data may hold no 3 held-out products alike
        assert quality["examples_latency"] is None
        return
    for result in quality["models"].values():
        examples = result["examples"]
        assert set(examples) == {"single", "average_vector", "best_score", "sum_scores"}
        for interval in examples.values():
            assert 0.0 <= interval["low"] <= interval["mean"] <= interval["high"] <= 1.0
    latency = quality["examples_latency"]
    assert latency["post"]["p50"] > 0 and latency["get"]["p50"] > 0
    assert latency["p50_ratio"] == latency["post"]["p50"] / latency["get"]["p50"]
    report = (results / "REPORT.md").read_text()
    assert "### Several examples (`POST /recommend`)" in report
