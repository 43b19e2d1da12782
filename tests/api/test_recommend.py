"""`GET /recommend` on a real index of a catalogue slice: the seed contract and the pipeline."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

QUERIES = (15970, 39386, 59263, 21379, 53759, 1855, 30805, 26960, 29114, 30039)


def _recommend(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/recommend", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_seed_contract(client: httpx.Client, catalog: pd.DataFrame, clip_vectors: dict) -> None:
    body = _recommend(client, product_id="15970", model="clip", top_k=5, lambda_diversity=0.7)
    assert body["query_product_id"] == "15970"
    assert body["model"] == "clip" and body["top_k"] == 5
    assert len(body["results"]) == 5
    query = clip_vectors[15970]
    for result in body["results"]:
        assert isinstance(result["product_id"], str) and result["product_id"] != "15970"
        assert isinstance(result["score"], float) and isinstance(result["ann_score"], float)
        assert isinstance(result["category_similarity"], float)
        assert isinstance(result["category_match"], bool)
        pid = int(result["product_id"])
        assert result["ann_score"] == pytest.approx(float(query @ clip_vectors[pid]), abs=1e-4)
        same = catalog.loc[pid, "articleType"] == catalog.loc[15970, "articleType"]
        assert result["category_match"] == same
        assert result["score"] == pytest.approx(
            0.6 * result["ann_score"] + 0.4 * result["category_similarity"], abs=1e-5
        )
        assert result["name"] == catalog.loc[pid, "name"]
        assert result["image_url"] == f"/products/{pid}/image"
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["parameters"]["candidates"] == 50 and body["parameters"]["category_mode"] == "soft"
    assert set(body["timings"]) == {"recall_ms", "mmr_ms", "rerank_ms", "total_ms"}
    ids = [int(r["product_id"]) for r in body["results"]]
    assert body["intra_list_diversity"] == pytest.approx(_ild(ids, clip_vectors), abs=1e-4)


def test_defaults_match_the_contract(client: httpx.Client) -> None:
    body = _recommend(client, product_id="15970")
    assert (body["model"], body["top_k"]) == ("clip", 5)
    assert body["parameters"]["lambda_diversity"] == 0.7


def test_lambda_one_is_exact_top_k(client: httpx.Client, clip_vectors: dict) -> None:
    ids = np.array(list(clip_vectors))
    matrix = np.stack(list(clip_vectors.values()))
    for query in QUERIES[:5]:
        sims = matrix @ clip_vectors[query]
        order = [int(i) for i in ids[np.argsort(-sims, kind="stable")] if i != query][:10]
        body = _recommend(
            client, product_id=query, top_k=10, lambda_diversity=1.0, category_mode="off"
        )
        assert [int(r["product_id"]) for r in body["results"]] == order


def _ild(ids: list[int], vectors: dict[int, np.ndarray]) -> float:
    return float(np.mean([1 - vectors[a] @ vectors[b] for a, b in combinations(ids, 2)]))


def test_smaller_lambda_gives_more_diverse_lists(client: httpx.Client, clip_vectors: dict) -> None:
    def mean_ild(lam: float) -> float:
        lists = [
            [
                int(r["product_id"])
                for r in _recommend(
                    client, product_id=q, top_k=5, lambda_diversity=lam, category_mode="off"
                )["results"]
            ]
            for q in QUERIES
        ]
        return float(np.mean([_ild(ids, clip_vectors) for ids in lists]))

    relevant, balanced, diverse = mean_ild(1.0), mean_ild(0.7), mean_ild(0.3)
    assert relevant < balanced < diverse


def test_hard_mode_stays_in_the_query_category(client: httpx.Client, catalog: pd.DataFrame) -> None:
    for query in QUERIES:
        body = _recommend(client, product_id=query, model="hybrid", top_k=8, category_mode="hard")
        wanted = catalog.loc[query, "articleType"]
        assert body["results"], query
        assert {catalog.loc[int(r["product_id"]), "articleType"] for r in body["results"]} == {
            wanted
        }
        assert all(r["category_match"] and r["category_similarity"] == 1.0 for r in body["results"])


@pytest.mark.parametrize("model", ["resnet", "efficientnet", "clip", "hybrid"])
def test_every_model_is_served_and_filters_hold(
    client: httpx.Client, catalog: pd.DataFrame, model: str
) -> None:
    body = _recommend(
        client, product_id=15970, model=model, top_k=10, gender="Women", masterCategory="Apparel"
    )
    assert len(body["results"]) == 10
    for result in body["results"]:
        row = catalog.loc[int(result["product_id"])]
        assert (row["gender"], row["masterCategory"]) == ("Women", "Apparel")
    assert body["parameters"]["filters"] == {"gender": "Women", "masterCategory": "Apparel"}


def test_numeric_ranges_and_unknown_filters(client: httpx.Client, catalog: pd.DataFrame) -> None:
    body = _recommend(client, product_id=15970, top_k=8, year_min=2012, year_max="2013")
    assert len(body["results"]) == 8
    assert all(2012 <= catalog.loc[int(r["product_id"]), "year"] <= 2013 for r in body["results"])
    assert body["parameters"]["filters"] == {"year_min": 2012, "year_max": 2013}
    unknown = client.get("/recommend", params={"product_id": 15970, "colour": "Blue"})
    assert unknown.status_code == 400 and unknown.json()["field"] == "colour"
    assert "filters on gender, masterCategory" in unknown.json()["detail"]
    assert "year_min, year_max" in unknown.json()["detail"]
    bad = client.get("/recommend", params={"product_id": 15970, "year_min": "soon"})
    assert bad.status_code == 400 and bad.json()["field"] == "year_min"
    search = client.post("/search", json={"text": "watch", "filters": {"gender": "Women"}})
    assert search.status_code == 200 and search.json()["parameters"]["filters"] == {
        "gender": "Women"
    }
    wrong = client.post("/search", json={"text": "watch", "filters": {"kind": "Watches"}})
    assert wrong.status_code == 400 and wrong.json()["field"] == "kind"
    names = {
        p["name"]
        for p in client.get("/openapi/openapi.json").json()["paths"]["/recommend"]["get"][
            "parameters"
        ]
    }
    assert {"gender", "usage", "year_min", "year_max"} <= names


def test_category_off_keeps_the_mmr_order(client: httpx.Client) -> None:
    body = _recommend(client, product_id=15970, top_k=6, category_mode="off")
    assert [r["mmr_rank"] for r in body["results"]] == list(range(1, 7))
    assert all(r["score"] == r["ann_score"] for r in body["results"])
