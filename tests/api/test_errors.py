"""Every bad request gets a clear 4xx naming the field; an unreachable store gets a 503."""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from PIL import Image

from api.app import create_app
from core.settings import Settings
from service.app import Services


@pytest.mark.parametrize(
    ("params", "status", "field", "words"),
    [
        ({"product_id": "999999999"}, 404, None, "no product with id"),
        ({"product_id": "abc"}, 404, None, "GET /products?q="),
        ({"product_id": "²"}, 404, None, "no product with id"),
        ({"product_id": "١٥٩٧٠"}, 404, None, "no product with id"),
        ({"product_id": "9" * 5000}, 404, None, "no product with id"),
        ({"product_id": "99999999999999999999"}, 404, None, "no product with id"),
        ({"product_id": "-15970"}, 404, None, "no product with id"),
        ({"product_id": "39403"}, 404, None, "no usable image"),
        ({"product_id": "15970", "model": "vgg"}, 400, "model", "valid models: resnet"),
        ({"product_id": "15970", "model": "clip_text"}, 400, "model", "valid models"),
        ({"product_id": "15970", "top_k": "0"}, 400, "top_k", "top_k"),
        ({"product_id": "15970", "top_k": "101"}, 400, "top_k", "top_k"),
        ({"product_id": "15970", "top_k": "five"}, 400, "top_k", "top_k"),
        ({"product_id": "15970", "lambda_diversity": "1.5"}, 400, "lambda_diversity", "lambda"),
        ({"product_id": "15970", "lambda_diversity": "-0.1"}, 400, "lambda_diversity", "lambda"),
        ({"product_id": "15970", "top_k": "20", "candidates": "10"}, 400, "candidates", "≥ top_k"),
        ({"product_id": "15970", "candidates": "1001"}, 400, "candidates", "candidates"),
        ({"product_id": "15970", "category_mode": "strict"}, 400, "category_mode", "category_mode"),
        ({"product_id": "15970", "w_cat": "2"}, 400, "w_cat", "w_cat"),
        ({}, 400, "product_id", "product_id"),
    ],
)
def test_bad_recommend_requests(
    client: httpx.Client, params: dict[str, str], status: int, field: str | None, words: str
) -> None:
    response = client.get("/recommend", params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    assert words in body["detail"]
    assert body["field"] == field


def test_unknown_product_elsewhere(client: httpx.Client) -> None:
    assert client.get("/products/123456789").status_code == 404
    assert client.get("/products/39403/image").status_code == 404
    assert client.get("/no/such/route").status_code == 404


@pytest.mark.parametrize("crafted", ["²", "١٥٩٧٠", "9" * 5000, "99999999999999999999", "0", " 1"])
def test_crafted_ids_are_404_on_every_product_path(client: httpx.Client, crafted: str) -> None:
    for path in (f"/products/{crafted}", f"/products/{crafted}/image"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.text)
        assert "no product with id" in response.json()["detail"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(crafted=st.text(min_size=1, max_size=60) | st.from_regex(r"[0-9]{15,60}", fullmatch=True))
def test_arbitrary_unicode_ids_never_reach_a_5xx(client: httpx.Client, crafted: str) -> None:
    quoted = quote(crafted, safe="")
    for response in (
        client.get("/recommend", params={"product_id": crafted}),
        client.get(f"/products/{quoted}"),
        client.get(f"/products/{quoted}/image"),
    ):
        assert response.status_code < 500, (crafted, response.status_code, response.text[:200])


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, "PNG")
    return buffer.getvalue()


def test_bad_uploads(client: httpx.Client) -> None:
    def upload(data: bytes, **form: str) -> httpx.Response:
        return client.post("/search", files={"image": ("x.jpg", data)}, data=form)

    not_image = upload(b"plain text, not a picture")
    assert not_image.status_code == 415 and not_image.json()["field"] == "image"
    too_big = upload(b"\0" * (10 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    bomb = upload(_png((5000, 5000)))
    assert bomb.status_code == 400 and "decompression bomb" in bomb.json()["detail"]
    assert upload(_png((80, 80)), model="hybrid").json()["field"] == "model"
    assert upload(_png((80, 80)), top_k="0").status_code == 400
    assert client.post("/search", files={"photo": ("x.png", _png((80, 80)))}).status_code == 400
    assert (
        client.post("/search", content=b"text", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    assert (
        client.post(
            "/search", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert client.post("/search", json={"text": ""}).json()["status_code"] == 400
    assert client.post("/search", json=["list"]).status_code == 400


@pytest.fixture
def unreachable(slice_indexed: Settings) -> Iterator[TestClient]:
    """The API configured for a Qdrant server that is not running."""
    settings = slice_indexed.override(backend="qdrant", qdrant_url="http://127.0.0.1:9")
    services = Services.load(settings)
    with TestClient(create_app(services)) as test_client:
        yield test_client


def test_store_unavailable_is_503_with_retry_after(unreachable: TestClient) -> None:
    response = unreachable.get("/recommend", params={"product_id": "15970"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1:9" in response.json()["detail"]
    assert unreachable.get("/ready").status_code == 503
    assert unreachable.get("/health").status_code == 200
