"""Every path and query parameter fuzzed with arbitrary Unicode text and huge numbers: the API
answers 2xx/4xx with an error body, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from core.settings import Settings
from service.app import Services
from tests.api.live import AUTH, copy_data
from tests.serving import serve_in_thread

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Anything a client can put in a URL: any Unicode (no surrogates), digits with junk, huge values.
texts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.from_regex(r"\A[+-]?\d{1,40}(\.\d*)?([eE][+-]?\d{1,4})?\Z"),
    st.sampled_from(["", " 15970", "15970 ", "0x3E6A", "1e309", "NaN", "-0", "١٥٩٧٠", "15970\x00"]),
)
RECOMMEND_PARAMS = (
    "product_id", "model", "top_k", "lambda_diversity", "candidates", "category_mode",
    "w_sim", "w_cat", "gender", "articleType", "user_id", "ranker",
)  # fmt: skip
# Any JSON value, nested a few levels: what a careless or hostile client may send.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
EVENT_FIELDS = ("type", "ranking_id", "product_id", "user_id", "event_id", "timestamp")
events = st.dictionaries(
    st.sampled_from(EVENT_FIELDS),
    st.sampled_from(["click", "add_to_cart", "purchase"]) | texts | json_values,
    max_size=6,
)
OVERRIDES = ("model", "lambda_diversity", "candidates", "category_mode", "w_sim", "w_cat", "ranker")
arms = st.fixed_dictionaries(
    {"name": texts, "weight": st.floats(allow_nan=False) | st.integers() | texts},
    optional={"overrides": st.dictionaries(st.sampled_from(OVERRIDES), json_values, max_size=3)},
)
experiment_specs = st.fixed_dictionaries(
    {"design": st.sampled_from(["ab", "interleave"]) | texts, "arms": st.lists(arms, max_size=3)}
)


def assert_handled(response: httpx.Response) -> None:
    """A 2xx, or a 4xx with the API's error body."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "detail" in response.json()


def path(value: str) -> str:
    return quote(value, safe="")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(RECOMMEND_PARAMS), texts, max_size=5))
def test_recommend_parameters(client: httpx.Client, params: dict[str, str]) -> None:
    assert_handled(client.get("/recommend", params={"product_id": "15970", **params}))


@FUZZ
@given(product_id=texts)
def test_product_paths(client: httpx.Client, product_id: str) -> None:
    for suffix in ("", "/image"):
        assert_handled(client.get(f"/products/{path(product_id)}{suffix}"))


@FUZZ
@given(q=texts, limit=texts)
def test_product_search_parameters(client: httpx.Client, q: str, limit: str) -> None:
    assert_handled(client.get("/products", params={"q": q, "limit": limit}))


@pytest.fixture(scope="module")
def writer(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A client holding the write key, on an API over a private copy of the slice: fuzzed ids
    get past the key check to the id parser (and valid ones really are written)."""
    services = Services.load(copy_data(slice_snapshot, tmp_path_factory.mktemp("fuzz") / "data"))
    try:
        app = create_app(services, watch_builds=False, write_limit="100000/minute")
        with (
            serve_in_thread(app, "fuzzed write API") as url,
            httpx.Client(base_url=url, timeout=60, headers=AUTH) as client,
        ):
            yield client
    finally:
        services.close()


@FUZZ
@given(product_id=texts)
def test_writes_to_crafted_ids(writer: httpx.Client, product_id: str) -> None:
    url = f"/products/{path(product_id)}"
    changed = writer.patch(url, json={"name": "x"})
    assert_handled(changed)
    assert changed.status_code != 403, "the fuzzed ids must reach the id parser"
    assert_handled(writer.delete(url))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"text": texts},
        optional={"model": texts, "top_k": texts | st.integers(), "candidates": st.integers()},
    )
)
def test_text_search_bodies(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_handled(client.post("/search", json=body))


@FUZZ
@given(body=st.one_of(events, st.lists(events, max_size=5), json_values))
def test_event_bodies(client: httpx.Client, body: Any) -> None:
    assert_handled(client.post("/events", json=body))


@FUZZ
@given(name=texts, body=experiment_specs | json_values)
def test_experiment_names_and_specs(writer: httpx.Client, name: str, body: Any) -> None:
    url = f"/experiments/{path(name)}"
    assert_handled(writer.put(url, json=body))
    assert_handled(writer.get(url))
    assert_handled(writer.delete(url))


ids = st.one_of(texts, st.integers(), st.sampled_from(["15970", "39386", "59263", "39403"]))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "positive": st.lists(ids, max_size=22) | texts,
            "negative": st.lists(ids, max_size=3),
            "strategy": texts | st.sampled_from(["average_vector", "best_score", "sum_scores"]),
            "model": texts,
            "top_k": texts | st.integers(),
            "candidates": st.integers(),
            "lambda_diversity": st.floats(allow_nan=True) | texts,
            "category_mode": texts,
            "filters": st.dictionaries(texts, texts | st.integers(), max_size=2),
            "user_id": texts,
            "ranker": texts,
        },
    )
)
def test_examples_bodies(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_handled(client.post("/recommend", json=body))
