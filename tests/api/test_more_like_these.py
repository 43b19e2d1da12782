"""`POST /recommend` on the real slice: Qdrant's strategies, explanations, the pipeline around
them, the list log and experiments, and every bad input a 4xx naming the id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from core.settings import Settings
from tests.api.live import AUTH, copy_data
from tests.api.test_learning import Shop, _shop
from tests.qdrant_reference import qdrant_recommend, reference_collection

WATCHES = ["30039", "29928", "17429"]  # black watches
TSHIRT = "9694"  # a white T-shirt


def _post(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/recommend", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def reference(clip_vectors: dict[int, np.ndarray]):
    ids = list(clip_vectors)
    return reference_collection(ids, np.stack([clip_vectors[i] for i in ids]))


@pytest.mark.parametrize("strategy", ["average_vector", "best_score", "sum_scores"])
def test_each_strategy_is_qdrants_and_explained(
    client: httpx.Client, reference, clip_vectors: dict, strategy: str
) -> None:
    body = _post(
        client,
        positive=WATCHES[:2],
        negative=[TSHIRT],
        strategy=strategy,
        top_k=8,
        lambda_diversity=1.0,
        category_mode="off",
    )
    assert (body["positive"], body["negative"], body["strategy"]) == (
        WATCHES[:2],
        [TSHIRT],
        strategy,
    )
    assert len(body["ranking_id"]) == 32 and body["model"] == "clip"
    positive = [int(i) for i in WATCHES[:2]]
    theirs = dict(qdrant_recommend(reference, positive, [int(TSHIRT)], strategy, 60))
    results = body["results"]
    assert [r["ann_score"] for r in results] == pytest.approx(
        sorted(theirs.values(), reverse=True)[:8], abs=1e-4
    )
    for r in results:
        pid = int(r["product_id"])
        assert r["product_id"] not in [*WATCHES[:2], TSHIRT]
        assert r["ann_score"] == pytest.approx(theirs[pid], abs=1e-4)
        sims = {p: float(clip_vectors[p] @ clip_vectors[pid]) for p in positive}
        closest = max(sims, key=sims.__getitem__)
        assert r["examples"]["closest_positive"] == str(closest)
        assert r["examples"]["positive_similarity"] == pytest.approx(sims[closest], abs=1e-5)
        negative = float(clip_vectors[int(TSHIRT)] @ clip_vectors[pid])
        assert r["examples"]["negative_similarity"] == pytest.approx(negative, abs=1e-5)


def test_category_rerank_targets_the_positives_types(
    client: httpx.Client, catalog: pd.DataFrame
) -> None:
    soft = _post(client, positive=[*WATCHES, TSHIRT], top_k=10)["results"]
    for r in soft:
        kind = catalog.loc[int(r["product_id"]), "articleType"]
        assert r["category_match"] == (kind in ("Watches", "Tshirts"))
        assert r["score"] == pytest.approx(
            0.6 * r["ann_score"] + 0.4 * r["category_similarity"], abs=1e-5
        )
        assert r["examples"]["negative_similarity"] is None
    hard = _post(client, positive=[*WATCHES, TSHIRT], category_mode="hard", top_k=10)["results"]
    assert {catalog.loc[int(r["product_id"]), "articleType"] for r in hard} == {
        "Watches"
    }  # the most frequent type


def test_filters_diversity_cache_and_events(client: httpx.Client, catalog: pd.DataFrame) -> None:
    body = {
        "positive": WATCHES,
        "filters": {"gender": "Women"},
        "top_k": 4,
        "lambda_diversity": 0.5,
    }
    first = client.post("/recommend", json=body)
    second = client.post("/recommend", json=body)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    answer = second.json()
    assert {catalog.loc[int(r["product_id"]), "gender"] for r in answer["results"]} == {"Women"}
    assert answer["parameters"]["filters"] == {"gender": "Women"}
    assert first.json()["ranking_id"] != answer["ranking_id"]
    click = {
        "type": "click",
        "ranking_id": answer["ranking_id"],
        "product_id": answer["results"][0]["product_id"],
    }
    assert client.post("/events", json=click).json()["accepted"] == 1


def test_negatives_alone_with_best_score(client: httpx.Client) -> None:
    body = _post(client, negative=WATCHES, strategy="best_score", top_k=3)
    assert all(r["examples"]["closest_positive"] is None for r in body["results"])
    assert all(r["examples"]["negative_similarity"] < 0.9 for r in body["results"])


def test_the_route_is_in_the_openapi_schema(client: httpx.Client) -> None:
    operations = client.get("/openapi/openapi.json").json()["paths"]["/recommend"]
    assert {"get", "post"} <= set(operations)


TOO_MANY = [str(i) for i in range(1, 22)]


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"positive": ["99999999"]}, 404, "99999999"),
        ({"positive": ["30039", "abc"]}, 404, "abc"),
        ({"positive": ["30039", "30039"]}, 400, "30039"),
        ({"positive": ["30039"], "negative": ["29928", "30039"]}, 400, "30039"),
        ({"positive": TOO_MANY}, 400, "positive"),
        ({"positive": ["30039"], "negative": TOO_MANY}, 400, "negative"),
        ({"positive": ["30039", "39403"]}, 404, "39403"),  # no image: no clip vector
        ({"negative": ["30039"]}, 400, "positive"),  # average_vector needs a positive
        ({}, 400, "positive"),
        ({"positive": ["30039"], "filters": {"colour": "Red"}}, 400, "colour"),
        ({"positive": ["30039"], "strategy": "magic"}, 400, "strategy"),
        ({"positive": ["30039"], "model": "nope"}, 400, "nope"),
        ({"positive": ["30039"], "top_k": 10, "candidates": 5}, 400, "candidates"),
        ({"positive": ["30039"], "colour": "Red"}, 400, "colour"),
        ({"positive": "30039"}, 400, "positive"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_id(
    client: httpx.Client, body: dict, status: int, named: str
) -> None:
    answer = client.post("/recommend", json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert named in error["detail"] or named == error["field"], error


def test_a_body_that_is_not_json_is_a_400(client: httpx.Client) -> None:
    answer = client.post(
        "/recommend", content=b"{positive", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400 and "detail" in answer.json()


@pytest.fixture(scope="module")
def shop(slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The slice served with its own event store (no events key), lists written every 0.2 s."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("examples") / "data")
    yield from _shop(settings, "examples API", flush_every_s=0.2)


def test_experiments_assign_shoppers_on_post(shop: Shop) -> None:
    arms = [
        {"name": "clip", "overrides": {"model": "clip"}},
        {"name": "hybrid", "overrides": {"model": "hybrid"}},
    ]
    assert shop.http.put(
        "/experiments/mlt", json={"design": "ab", "arms": arms}, headers=AUTH
    ).is_success
    shop.loop.experiments.refresh()
    arms_seen = set()
    for user in range(12):
        body = _post(shop.http, positive=WATCHES, user_id=f"mlt-{user}", model="resnet")
        assert body["experiment"] == "mlt" and body["parameters"]["model"] == body["arm"]
        arms_seen.add(body["arm"])
    assert arms_seen == {"clip", "hybrid"}
    assert shop.http.delete("/experiments/mlt", headers=AUTH).status_code == 204
    shop.loop.experiments.refresh()


def _event(kind: str, answer: dict, index: int, minutes_ago: int) -> dict:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    product = answer["results"][index]["product_id"]
    return {"type": kind, "ranking_id": answer["ranking_id"], "product_id": product,
            "user_id": "fy-1", "timestamp": at.isoformat()}  # fmt: skip


def test_for_you_is_built_from_the_shoppers_events(shop: Shop) -> None:
    missing = shop.http.get("/recommend/for-you", params={"user_id": "fy-1"})
    assert missing.status_code == 404 and "no clicks" in missing.json()["detail"]
    seen = shop.http.get(
        "/recommend", params={"product_id": WATCHES[0], "user_id": "fy-1", "top_k": 4}
    ).json()
    events = [
        _event("click", seen, 0, 30),
        _event("click", seen, 1, 20),
        _event("add_to_cart", seen, 1, 19),
        _event("purchase", seen, 2, 10),
    ]
    assert shop.http.post("/events", json=events).json()["accepted"] == 4
    answer = shop.http.get("/recommend/for-you", params={"user_id": "fy-1", "top_k": 6})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    shown = [r["product_id"] for r in seen["results"]]
    assert body["user_id"] == "fy-1" and body["strategy"] == "average_vector"
    assert body["positive"] == [shown[2], shown[1], shown[0]]  # newest first
    assert [(e["type"], e["product_id"], e["weight"]) for e in body["events"]] == [
        ("purchase", shown[2], 1.0),
        ("add_to_cart", shown[1], 0.7),
        ("click", shown[1], 0.7),
        ("click", shown[0], 0.49),
    ]
    assert not {r["product_id"] for r in body["results"]} & set(
        shown[:3]
    )  # nothing bought or seen again
    assert len(body["ranking_id"]) == 32 and len(body["results"]) == 6
