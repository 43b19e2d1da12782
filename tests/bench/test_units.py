"""The benchmark helpers on small synthetic inputs: sizes, scaled collections, queries, load runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.loadtest import Answer, LoadRun, QueryCycle
from bench.queries import held_out_queries
from bench.scaling import parse_size, scaled, size_label
from embed.split import Split


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("text", "count"),
    [("real", None), ("REAL", None), ("10k", 10_000), ("1M", 1_000_000), ("2.5k", 2_500), ("7", 7)],
)
def test_parse_size(text: str, count: int | None) -> None:
    assert parse_size(text) == count


@pytest.mark.parametrize("text", ["", "ten", "0", "-3k"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_size_labels() -> None:
    assert [size_label(n) for n in (600, 2_500, 10_000, 44_072, 200_000, 1_000_000)] == [
        "600",
        "2.5k",
        "10k",
        "44.1k",
        "200k",
        "1M",
    ]


def test_scaled_real_subset_and_growth() -> None:
    ids = np.arange(100, 150, dtype=np.int64)
    vectors = unit_rows(50, 8)
    payloads = [{"id": int(i), "articleType": f"t{i % 3}"} for i in ids]

    real = scaled(ids, vectors, payloads, None, seed=0)
    assert real.label == "50 (real)" and len(real) == 50
    assert real.payloads(0, 2) == payloads[:2]

    subset = scaled(ids, vectors, payloads, 20, seed=0, keep=[103, 149])
    assert len(subset) == 20 and set(subset.ids) <= set(ids)
    assert {103, 149} <= set(subset.ids)
    for row in range(20):
        assert subset.payloads(row, row + 1)[0]["id"] == subset.ids[row]

    grown = scaled(ids, vectors, payloads, 120, seed=0)
    assert len(grown) == 120 and len(set(grown.ids)) == 120
    np.testing.assert_array_equal(grown.vectors[:50], vectors)
    np.testing.assert_allclose(np.linalg.norm(grown.vectors, axis=1), 1.0, rtol=1e-5)
    copies = grown.vectors[50:]
    sources = vectors[grown.sources[50:]]
    cosines = np.sum(copies * sources, axis=1)
    assert 0.85 < cosines.mean() < 0.99  # near their source, not duplicates
    extra = grown.payloads(50, 120)
    assert [p["id"] for p in extra] == grown.ids[50:].tolist()
    assert [p["articleType"] for p in extra] == [
        payloads[s]["articleType"] for s in grown.sources[50:]
    ]
    assert scaled(ids, vectors, payloads, 120, seed=0).ids.tolist() == grown.ids.tolist()


def test_held_out_queries_sample_only_eligible_products() -> None:
    products = pd.DataFrame(
        {
            "id": np.arange(1, 21, dtype=np.int64),
            "articleType": pd.array(["Shirts", None] * 10, dtype="string"),
            "has_image": [i != 3 for i in range(1, 21)],
        }
    )
    split = Split(
        held_out=frozenset({1, 2, 3, 4, 5, 6, 7}), seed=0, fraction=0.1, stratified_by="articleType"
    )
    embedded = [np.arange(1, 21), np.arange(2, 21)]  # 1 lacks a vector in the second model
    queries = held_out_queries(products, split, embedded, count=10, seed=5)
    assert [q.id for q in queries] == [2, 4, 5, 6, 7]
    assert [q.article_type for q in queries] == [None, None, "Shirts", None, "Shirts"]
    three = held_out_queries(products, split, embedded, count=3, seed=5)
    assert len(three) == 3 and three == held_out_queries(products, split, embedded, 3, seed=5)


def test_query_cycle_is_a_seeded_endless_permutation() -> None:
    cycle = QueryCycle([1, 2, 3, 4], seed=1)
    first = [next(cycle) for _ in range(8)]
    assert sorted(first[:4]) == [1, 2, 3, 4] and first[4:] == first[:4]
    again = QueryCycle([1, 2, 3, 4], seed=1)
    assert [next(again) for _ in range(4)] == first[:4]


def test_load_run_summary() -> None:
    timings = {"recall_ms": 0.5, "mmr_ms": 0.25, "rerank_ms": 0.05, "total_ms": 0.8}
    run = LoadRun(concurrency=2, seconds=2.0, server_cpu_s=1.0, client_cpu_s=0.5)
    run.answers = [Answer(2.0, 200, timings), Answer(3.0, 200, timings), Answer(9.0, 0, None)]
    summary = run.summary()
    assert summary["requests"] == 3 and summary["errors"] == 1
    assert summary["throughput_rps"] == pytest.approx(1.0)
    assert summary["server_cpu_cores"] == 0.5 and summary["client_cpu_cores"] == 0.25
    assert summary["latency_ms"]["p50"] == pytest.approx(2.5)
    assert summary["server_stages_ms"]["mmr_ms"]["p50"] == pytest.approx(0.25)
    assert summary["outside_pipeline_ms"]["p50"] == pytest.approx(1.7)
