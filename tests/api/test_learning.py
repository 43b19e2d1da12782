"""The learning loop over HTTP: served lists logged with a ranking_id, events taken (checked,
deduplicated, durable), experiments assigning shoppers, the event store going away."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from bench.postgres_server import PostgresServer
from core.settings import Settings
from events.factory import open_event_store
from service.app import Services
from service.learning import ShopperLoop
from simulate.traffic import Traffic, run
from tests.api.live import AUTH, copy_data
from tests.api.test_live_durability import Server
from tests.serving import serve_in_thread

PRODUCT = 15970
EVENTS_KEY = "events-key-for-tests"
EVENTS_AUTH = {"Authorization": f"Bearer {EVENTS_KEY}"}


class Shop:
    """An API over a private copy of the slice, its shopper loop at hand."""

    def __init__(self, http: httpx.Client, loop: ShopperLoop) -> None:
        self.http, self.loop = http, loop

    def recommend(self, **params: Any) -> dict:
        answer = self.http.get("/recommend", params={"product_id": PRODUCT, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def events(self, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            "/events", json=body, headers=EVENTS_AUTH if headers is None else headers
        )


def _shop(settings: Settings, what: str, flush_every_s: float) -> Iterator[Shop]:
    services = Services.load(settings)
    loop = ShopperLoop.open(settings, services.products.payload_of)
    loop.log.every_s = flush_every_s
    with (
        serve_in_thread(create_app(services, watch_builds=False, loop=loop), what) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        yield Shop(http, loop)


@pytest.fixture(scope="module")
def shop(slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The slice served with an events key; its list log writes only when a test flushes it."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("learning") / "data")
    settings = replace(settings, events_key=EVENTS_KEY)
    # Lists stay queued until a test flushes them: a click must still find its list.
    yield from _shop(settings, "learning API", flush_every_s=3600.0)


def click(ranking_id: str, product_id: str, **fields: object) -> dict:
    return {"type": "click", "ranking_id": ranking_id, "product_id": product_id, **fields}


def test_every_served_list_gets_its_own_ranking_id(client: httpx.Client) -> None:
    ids = set()
    for _ in range(3):
        answer = client.get("/recommend", params={"product_id": PRODUCT, "top_k": 4})
        body = answer.json()
        assert body["experiment"] is None and body["arm"] is None
        assert [r["recall_rank"] >= 1 for r in body["results"]] == [True] * 4
        ids.add(body["ranking_id"])
    assert answer.headers["x-cache"] == "hit" and len(ids) == 3
    found = client.post("/search", json={"text": "red dress", "user_id": "shopper:7"}).json()
    assert len(found["ranking_id"]) == 32 and found["experiment"] is None


@pytest.mark.parametrize("user_id", ["", "x" * 129, "naïve", "a b", "a/b"])
def test_a_bad_user_id_is_a_400_naming_the_field(client: httpx.Client, user_id: str) -> None:
    got = client.get("/recommend", params={"product_id": PRODUCT, "user_id": user_id})
    assert got.status_code == 400 and got.json()["field"] == "user_id", got.text
    found = client.post("/search", json={"text": "red dress", "user_id": user_id})
    assert found.status_code == 400 and found.json()["field"] == "user_id", found.text


def test_events_are_checked_one_by_one_and_counted_once(shop: Shop) -> None:
    served = shop.recommend(user_id="u-1", top_k=3)
    rid, shown = served["ranking_id"], [r["product_id"] for r in served["results"]]
    assert len(shop.loop.log) >= 1  # the list still waits in the write queue
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = [
        click(rid, shown[0], event_id="e-1"),
        click(rid, shown[1], timestamp="2026-12-07T10:00:00Z"),
        {"type": "purchase", "ranking_id": rid, "product_id": shown[2], "event_id": "e-2"},
        click("f" * 32, shown[0]),
        click(rid, "999999"),
        click(rid, shown[0], timestamp="yesterday"),
        click(rid, shown[0], timestamp=future),
        click(rid, shown[1], event_id="e-1"),  # the same event id again, in the same batch
    ]
    taken = shop.events(batch)
    assert taken.status_code == 202, taken.text
    body = taken.json()
    assert (body["accepted"], body["duplicates"]) == (3, 1)
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "unknown ranking_id" in reasons[3] and "was not in list" in reasons[4]
    assert "ISO-8601" in reasons[5] and "in the future" in reasons[6]
    again = shop.events(click(rid, shown[0], event_id="e-1")).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    kept = shop.loop.store.events(user_id="u-1")
    assert [e.type for e in kept].count("purchase") == 1 and len(kept) == 3


def test_events_need_the_events_key_when_one_is_set(shop: Shop) -> None:
    rid = shop.recommend()["ranking_id"]
    event = click(rid, "1")
    assert shop.events(event, headers={}).status_code == 401
    assert shop.events(event, headers=AUTH).status_code == 401  # the write key is not it
    assert shop.events(event).status_code == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "events"),
        ([{"type": "click"}] * 1001, "events"),
        ({"type": "view", "ranking_id": "r", "product_id": "1"}, "type"),
        ([{"type": "click", "ranking_id": "r", "product_id": "1"}, {"type": "click"}], "[1]"),
        ({"type": "click", "ranking_id": "r", "product_id": "1", "user_id": "a b"}, "user_id"),
        ({"type": "click", "ranking_id": 7, "product_id": "1"}, "ranking_id"),
        ("click", "body"),
    ],
)
def test_a_malformed_batch_is_a_400_naming_the_field(shop: Shop, body: object, field: str) -> None:
    got = shop.events(body)
    assert got.status_code == 400, got.text
    assert field in (got.json()["field"] or ""), got.json()


def test_deeply_nested_json_is_a_400_on_every_json_route(shop: Shop) -> None:
    nested = "[" * 3000 + "]" * 3000
    for method, path, auth in [
        ("POST", "/search", {}),
        ("POST", "/events", EVENTS_AUTH),
        ("PUT", "/experiments/deep", AUTH),
        ("PATCH", f"/products/{PRODUCT}", AUTH),
    ]:
        headers = {"content-type": "application/json", **auth}
        got = shop.http.request(method, path, content=nested, headers=headers)
        assert got.status_code == 400, (path, got.text)
        assert "nested too deeply" in got.json()["detail"]


def test_an_ab_test_assigns_shoppers_and_counts_exactly(shop: Shop) -> None:
    arms = [
        {"name": "clip", "weight": 1, "overrides": {"model": "clip"}},
        {"name": "hybrid", "weight": 1, "overrides": {"model": "hybrid", "lambda_diversity": 1}},
    ]
    assert shop.http.put("/experiments/ab1", json={"design": "ab", "arms": arms}).status_code == 401
    started = shop.http.put("/experiments/ab1", json={"design": "ab", "arms": arms}, headers=AUTH)
    assert started.status_code == 200, started.text
    assert (
        shop.http.put(
            "/experiments/other", json={"design": "ab", "arms": arms}, headers=AUTH
        ).status_code
        == 409
    )
    shop.loop.experiments.refresh()
    served: dict[str, list[dict]] = {"clip": [], "hybrid": []}
    for user in range(30):
        for _ in range(2):
            answer = shop.recommend(user_id=f"user-{user}", model="resnet", top_k=3)
            assert answer["experiment"] == "ab1"
            served[answer["arm"]].append(answer)
            assert answer["parameters"]["model"] == answer["arm"]  # the arm's model wins
    arms_of = {a["arm"] for a in served["clip"][::2]} | {a["arm"] for a in served["hybrid"][::2]}
    assert arms_of == {"clip", "hybrid"}
    assert all(a["parameters"]["lambda_diversity"] == 1.0 for a in served["hybrid"])
    anonymous = shop.recommend()
    assert anonymous["experiment"] is None  # no user_id: not assigned

    clicks = [click(a["ranking_id"], a["results"][0]["product_id"]) for a in served["hybrid"][:7]]
    clicks += [
        click(served["clip"][0]["ranking_id"], served["clip"][0]["results"][1]["product_id"])
    ]
    assert shop.events(clicks).json()["accepted"] == 8
    shop.loop.log.flush()
    result = shop.http.get("/experiments/ab1").json()
    by_arm = {arm["name"]: arm for arm in result["arms"]}
    assert by_arm["clip"]["lists"] == len(served["clip"])
    assert by_arm["hybrid"]["lists"] == len(served["hybrid"])
    assert by_arm["hybrid"]["clicks"] == by_arm["hybrid"]["lists_clicked"] == 7
    assert by_arm["clip"]["clicks"] == 1 and by_arm["clip"]["lift"] is None
    assert by_arm["hybrid"]["lift"] is not None and 0 <= by_arm["hybrid"]["p_value"] <= 1
    assert by_arm["clip"]["users"] + by_arm["hybrid"]["users"] == 30
    assert 0 <= result["srm_p_value"] <= 1
    assert shop.http.delete("/experiments/ab1", headers=AUTH).status_code == 204
    assert shop.http.delete("/experiments/ab1", headers=AUTH).status_code == 404
    assert shop.http.get("/experiments/ab1").json()["status"] == "stopped"
    assert shop.http.get("/experiments/nope").status_code == 404
    assert shop.http.get("/experiments").json()[0]["name"] == "ab1"


def test_interleaving_merges_both_arms_and_credits_the_team(shop: Shop) -> None:
    arms = [
        {"name": "diverse", "overrides": {"lambda_diversity": 0.3}},
        {"name": "relevant", "overrides": {"lambda_diversity": 1.0}},
    ]
    started = shop.http.put(
        "/experiments/tdi", json={"design": "interleave", "arms": arms}, headers=AUTH
    )
    assert started.status_code == 200, started.text
    shop.loop.experiments.refresh()
    answers = [shop.recommend(user_id=f"tdi-{i}", top_k=6) for i in range(12)]
    assert all(a["experiment"] == "tdi" and a["arm"] is None for a in answers)
    assert all(len({r["product_id"] for r in a["results"]}) == 6 for a in answers)
    shop.loop.log.flush()
    records = {r.ranking_id: r for r in shop.loop.store.served_lists()}
    teams = [[s.team for s in records[a["ranking_id"]].shown] for a in answers]
    assert all(
        set(t) <= {"diverse", "relevant"} and abs(t.count("diverse") - 3) <= 1 for t in teams
    )
    # Click the first product the second arm contributed, in each of the first five lists.
    for answer, team in zip(answers[:5], teams[:5], strict=True):
        product = answer["results"][team.index("relevant")]["product_id"]
        assert shop.events(click(answer["ranking_id"], product)).json()["accepted"] == 1
    result = shop.http.get("/experiments/tdi").json()
    assert (result["wins"], result["losses"], result["ties"]) == (5, 0, 7)
    assert result["p_value"] == pytest.approx(2 / 2**5)
    assert shop.http.delete("/experiments/tdi", headers=AUTH).status_code == 204


def test_metrics_count_events_and_logged_lists(shop: Shop) -> None:
    text = shop.http.get("/metrics").text
    assert 'lookalike_events_total{outcome="accepted",type="click"}' in text
    assert "lookalike_lists_logged_total" in text and "lookalike_list_log_queue_depth" in text


@pytest.fixture
def pg_shop(slice_snapshot: Settings, postgres: PostgresServer, tmp_path: Path) -> Iterator[Shop]:
    """The slice served with its events in PostgreSQL (LOOKALIKE_EVENTS_URL)."""
    settings = replace(
        copy_data(slice_snapshot, tmp_path / "data"), events_url=postgres.new_database()
    )
    yield from _shop(settings, "PostgreSQL API", flush_every_s=0.2)


def _drained(shop: Shop) -> None:
    deadline = time.monotonic() + 30
    while len(shop.loop.log) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(shop.loop.log) == 0


def test_postgres_down_recommend_serves_events_wait_then_resume(
    pg_shop: Shop, postgres: PostgresServer
) -> None:
    before = pg_shop.recommend(user_id="pg-1")
    assert (
        pg_shop.events(click(before["ranking_id"], before["results"][0]["product_id"])).status_code
        == 202
    )
    _drained(pg_shop)
    postgres.stop()
    try:
        during = [pg_shop.recommend(user_id="pg-1", top_k=k) for k in (2, 3, 4)]
        refused = pg_shop.events(
            click(during[0]["ranking_id"], during[0]["results"][0]["product_id"])
        )
        assert refused.status_code == 503 and refused.headers["retry-after"], refused.text
        time.sleep(0.5)
        assert len(pg_shop.loop.log) == 3  # kept in memory while the store is down
    finally:
        postgres.start()
    _drained(pg_shop)  # logging resumed by itself
    kept = {r.ranking_id for r in pg_shop.loop.store.served_lists()}
    assert {before["ranking_id"], *(d["ranking_id"] for d in during)} <= kept
    late = pg_shop.events(click(during[0]["ranking_id"], during[0]["results"][0]["product_id"]))
    assert late.json()["accepted"] == 1
    assert pg_shop.loop.store.count_events() == 2  # nothing accepted was lost


def test_accepted_events_survive_kill_9(slice_snapshot: Settings, tmp_path: Path) -> None:
    server = Server(copy_data(slice_snapshot, tmp_path / "data"))
    http = server.start()
    try:
        sent = 0
        for round_ in range(5):
            answer = http.get("/recommend", params={"product_id": PRODUCT, "user_id": "k9"}).json()
            time.sleep(0.6)  # the list is written; the events then only depend on the 202
            events = [
                click(answer["ranking_id"], r["product_id"], event_id=f"k9-{round_}-{i}")
                for i, r in enumerate(answer["results"])
            ]
            taken = http.post("/events", json=events)
            assert taken.status_code == 202 and taken.json()["accepted"] == len(events)
            sent += len(events)
        server.kill()
    finally:
        server.stop()
        http.close()
    store = open_event_store(None, server.settings.data_dir)
    assert store.count_events() == sent
    assert Counter(e.user_id for e in store.events()) == {"k9": sent}
    store.close()


def test_simulated_shoppers_counts_match_the_experiment_exactly(shop: Shop) -> None:
    arms = [
        {"name": "clip", "overrides": {"model": "clip"}},
        {"name": "hybrid", "overrides": {"model": "hybrid"}},
    ]
    shop.http.put("/experiments/sim", json={"design": "ab", "arms": arms}, headers=AUTH)
    shop.loop.experiments.refresh()
    traffic = Traffic(
        api_url=str(shop.http.base_url).rstrip("/"),
        shoppers=40,
        lists=400,
        workers=2,
        seed=3,
        events_key=EVENTS_KEY,
    )
    tally = run(traffic, progress=False)
    assert tally.rejected == 0 and sum(tally.lists.values()) == 400
    shop.loop.log.flush()
    result = shop.http.get("/experiments/sim").json()
    for arm in result["arms"]:
        name = arm["name"]
        assert arm["lists"] == tally.lists[name]
        assert arm["lists_clicked"] == tally.clicked_lists[name]
        assert arm["clicks"] == tally.events[(name, "click")]
        assert arm["add_to_carts"] == tally.events[(name, "add_to_cart")]
        assert arm["purchases"] == tally.events[(name, "purchase")]
    assert sum(arm["clicks"] for arm in result["arms"]) > 0
    shop.http.delete("/experiments/sim", headers=AUTH)
