"""The learned ranker end to end: simulated traffic → training → served, explained, cached."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from api.app import create_app
from core.errors import LookalikeError
from core.settings import Settings
from events.factory import open_event_store
from events.model import AnsweredResult
from ranker.features import FEATURES, recalled_of
from ranker.train import MIN_CLICKED_LISTS, logged_lists, train_ranker
from service.app import Services
from service.learning import ShopperLoop
from simulate.traffic import Traffic, run
from tests.api.live import copy_data
from tests.serving import serve_in_thread

PRODUCT = 15970


class Shop:
    def __init__(self, http: httpx.Client, loop: ShopperLoop, settings: Settings) -> None:
        self.http, self.loop, self.settings = http, loop, settings

    def learned(self, **params: object) -> httpx.Response:
        query = {"product_id": PRODUCT, "ranker": "learned", **params}
        return self.http.get("/recommend", params=query)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shop(slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The slice served with its own event store, no trained ranker at first."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("ranker") / "data")
    services = Services.load(settings)
    loop = ShopperLoop.open(settings, services.products.payload_of)
    loop.log.every_s = 0.2
    loop.rankers.every_s = 0.5
    with (
        serve_in_thread(create_app(services, watch_builds=False, loop=loop), "ranker API") as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        yield Shop(http, loop, settings)


def test_too_little_data_is_refused_saying_how_much(tmp_path: Path) -> None:
    store = open_event_store(None, tmp_path)
    with pytest.raises(LookalikeError, match=f"0 logged lists.*at least {MIN_CLICKED_LISTS}"):
        train_ranker(store, tmp_path / "rankers")
    store.close()


def test_without_a_model_learned_is_a_409_and_an_unknown_ranker_a_400(shop: Shop) -> None:
    missing = shop.learned()
    assert missing.status_code == 409 and "lookalike ranker train" in missing.json()["detail"]
    assert shop.http.get("/ranker").status_code == 409
    unknown = shop.learned(ranker="magic")
    assert unknown.status_code == 400 and unknown.json()["field"] == "ranker"


@pytest.fixture(scope="module")
def trained(shop: Shop) -> dict:
    """A model trained on simulated shoppers' traffic through the API. Lists of 10 leave the
    model room to reorder: on 4,000 lists of 5 its held-out NDCG@5 beat the served order by
    −0.010 … +0.014 over six runs (three failing); on 8,000 lists of 10 by +0.028 … +0.042 over
    four."""
    traffic = Traffic(
        api_url=str(shop.http.base_url).rstrip("/"),
        shoppers=40,
        lists=8000,
        workers=2,
        seed=11,
        params={"top_k": 10},
    )
    assert run(traffic, progress=False).rejected == 0
    deadline = time.monotonic() + 30
    while len(shop.loop.log) and time.monotonic() < deadline:
        time.sleep(0.1)
    return train_ranker(shop.loop.store, shop.settings.rankers_dir, max_minutes=1.0)


def test_the_trained_model_beats_the_served_order_on_its_held_out_tail(trained: dict) -> None:
    metrics = trained["metrics"]
    assert metrics["test_lists_evaluated"] > 50
    assert metrics["ndcg5_learned"] > metrics["ndcg5_served"], metrics
    assert set(metrics["position_bias"]) == {"feature", "lightgbm", "none"}
    assert trained["features"] == list(FEATURES)


def test_learned_lists_are_explained_and_cached_for_shoppers_without_history(
    shop: Shop, trained: dict
) -> None:
    deadline = time.monotonic() + 10
    while shop.http.get("/ranker").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert shop.http.get("/ranker").json()["version"] == trained["version"]
    first, second = shop.learned(user_id="new-shopper"), shop.learned(user_id="other-new")
    assert first.status_code == 200, first.text
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    body = first.json()
    assert body["parameters"]["ranker"] == "learned"
    for result in body["results"]:
        assert isinstance(result["ranker_score"], float) and len(result["contributions"]) == 3
        assert result["score"] == result["ranker_score"]
    scores = [r["ranker_score"] for r in body["results"]]
    assert scores[0] == max(scores)  # λ 0.7 starts from the best-scored candidate
    with_history = shop.learned(user_id="sim-1")  # a simulated shopper who clicked
    assert with_history.status_code == 200 and with_history.headers["x-cache"] != "hit"


def test_logged_features_are_the_features_served_and_trained_on(shop: Shop, trained: dict) -> None:
    answer = shop.learned(user_id="sim-2", top_k=4).json()
    results = [
        AnsweredResult(**{k: r[k] for k in AnsweredResult.__struct_fields__})
        for r in answer["results"]
    ]
    shown = recalled_of(results, shop.loop.payload_of)
    now = shop.loop.features.rows(shop.loop.payload_of(str(PRODUCT)), shown, "clip", "sim-2")
    deadline = time.monotonic() + 10
    while len(shop.loop.log) and time.monotonic() < deadline:
        time.sleep(0.1)
    [record] = [s for s in shop.loop.store.served_lists() if s.ranking_id == answer["ranking_id"]]
    logged = np.array([[(item.features or {})[f] for f in FEATURES] for item in record.shown])
    np.testing.assert_allclose(logged, now)
    lists = logged_lists(shop.loop.store)
    np.testing.assert_allclose(lists.features[-4:], logged)  # training reads exactly these


def test_contributions_are_lightgbms_and_sum_to_the_score(shop: Shop, trained: dict) -> None:
    ranker = shop.loop.rankers.current
    assert ranker is not None and ranker._table is not None  # served from the tables
    rows = logged_lists(shop.loop.store).features[:200]
    full = np.asarray(ranker.booster.predict(ranker._inputs(rows), pred_contrib=True))
    np.testing.assert_allclose(full.sum(axis=1), np.asarray(ranker.scores(rows)), atol=1e-9)
    served = ranker.contributions(rows)
    for row, top in zip(full, served, strict=True):
        for feature, value in top:
            assert value == pytest.approx(row[ranker.names.index(feature)], abs=1e-6)


def test_a_new_model_is_picked_up_without_a_restart_and_keys_the_cache(
    shop: Shop, trained: dict
) -> None:
    assert shop.learned(user_id="fresh-1").headers["x-cache"] in ("hit", "miss")
    assert shop.learned(user_id="fresh-2").headers["x-cache"] == "hit"
    newer = train_ranker(shop.loop.store, shop.settings.rankers_dir, 0.5, compile_model=False)
    assert newer["version"] != trained["version"]
    deadline = time.monotonic() + 10
    while shop.http.get("/ranker").json()["version"] != newer["version"]:
        assert time.monotonic() < deadline, "the new model was not picked up"
        time.sleep(0.2)
    assert shop.learned(user_id="fresh-3").headers["x-cache"] == "miss"  # a new model, new key


def test_post_recommend_serves_the_learned_ranker(shop: Shop, trained: dict) -> None:
    deadline = time.monotonic() + 10
    while shop.http.get("/ranker").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    body = {"positive": [str(PRODUCT), "39386"], "ranker": "learned", "user_id": "examples-1"}
    answer = shop.http.post("/recommend", json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert all(len(r["contributions"]) == 3 and r["examples"] for r in results)
    assert all(r["score"] == r["ranker_score"] for r in results)
