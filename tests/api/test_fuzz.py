"""Every path and query parameter fuzzed with arbitrary Unicode text and huge numbers: the API
answers 2xx/4xx with an error body, never a 5xx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    "w_sim", "w_cat", "gender", "articleType",
)  # fmt: skip


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


@FUZZ
@given(product_id=texts)
def test_writes_to_crafted_ids(client: httpx.Client, product_id: str) -> None:
    url = f"/products/{path(product_id)}"
    assert_handled(client.patch(url, json={"name": "x"}, headers={"Authorization": "Bearer x"}))
    assert_handled(client.delete(url, headers={"Authorization": "Bearer x"}))


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"text": texts},
        optional={"model": texts, "top_k": texts | st.integers(), "candidates": st.integers()},
    )
)
def test_text_search_bodies(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_handled(client.post("/search", json=body))
