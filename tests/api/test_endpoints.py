"""Products, images, models, health, docs and `POST /search` on the real API."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd

from core.settings import Settings
from embed.online import Encoders
from embed.text import CLIP_QUERY_EXPANSION
from service.queries import expanded as expand_queries
from store.memory import MemoryStore
from tests.api.conftest import embedded_vectors
from tests.conftest import require_shared


def test_product_lookup_and_name_search(client: httpx.Client, catalog: pd.DataFrame) -> None:
    product = client.get("/products/15970").json()
    assert product["product_id"] == "15970"
    assert product["name"] == "Turtle Check Men Navy Blue Shirt"
    assert product["articleType"] == "Shirts" and product["year"] == 2011
    found = client.get("/products", params={"q": "navy shirt", "limit": 5}).json()
    assert 0 < len(found) <= 5
    assert all(
        {"navy", "shirt"} <= set(p["name"].lower().replace("shirts", "shirt").split())
        or ("navy" in p["name"].lower() and "shirt" in p["name"].lower())
        for p in found
    )
    assert client.get("/products", params={"q": "zzzzqqq"}).json() == []
    assert client.get("/products", params={"limit": 0}).status_code == 400
    random_product = client.get("/products/random").json()
    assert random_product["has_image"] and int(random_product["product_id"]) in catalog.index


def test_product_image_is_a_png_revalidated_by_etag(client: httpx.Client) -> None:
    response = client.get("/products/15970/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert "no-cache" in response.headers["cache-control"]
    assert response.content.startswith(b"\x89PNG")
    etag = response.headers["etag"]
    again = client.get("/products/15970/image", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_models_health_ready_docs(client: httpx.Client) -> None:
    models = {m["name"]: m for m in client.get("/models").json()}
    assert {"resnet", "efficientnet", "clip", "hybrid", "clip_text"} <= set(models)
    assert models["clip"]["count"] > 1900 and models["clip"]["dim"] > 0
    assert models["clip_text"]["count"] > models["clip"]["count"]  # products without an image
    assert models["clip"]["weights"] == "catalog"
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready").json()
    assert ready["status"] == "ok" and set(ready["detail"]) == set(models) | {"cache"}
    assert ready["detail"]["cache"] == "memory: ok"
    schema = client.get("/openapi/openapi.json").json()
    assert {"/recommend", "/search", "/products/{product_id}"} <= set(schema["paths"])
    docs = client.get("/docs")  # the client does not follow redirects
    assert (docs.status_code, docs.headers["location"]) == (302, "/openapi/swagger")
    catalogue = client.get("/schema").json()
    assert catalogue["table"] == {"path": "styles.csv"}
    assert catalogue["fields"]["id"] == "id" and catalogue["fields"]["category"] == "articleType"
    assert catalogue["fields"]["numeric"] == ["year"]
    assert catalogue["image"] == {"template": "images/{id}.jpg"}


def test_text_search(client: httpx.Client, catalog: pd.DataFrame) -> None:
    body = client.post("/search", json={"text": "a photo of Watches", "top_k": 5}).json()
    assert body["query"] == "a photo of Watches" and len(body["results"]) == 5
    types = [catalog.loc[int(r["product_id"]), "articleType"] for r in body["results"]]
    assert types.count("Watches") >= 3
    for model in ("clip_text", "hybrid"):
        body = client.post("/search", json={"text": "blue denim jeans", "model": model}).json()
        types = [catalog.loc[int(r["product_id"]), "articleType"] for r in body["results"]]
        assert len(types) == 5 and types.count("Jeans") >= 3, (model, types)


def test_clip_text_search_goes_through_the_nearest_product_texts(
    client: httpx.Client, slice_indexed: Settings, clip_vectors: dict[int, np.ndarray]
) -> None:
    text = "shades to protect my eyes from the sun"
    expansion = CLIP_QUERY_EXPANSION
    assert expansion is not None
    query = Encoders().encode_query_texts("clip", [text])
    texts = embedded_vectors(slice_indexed, "clip_text")
    exact = MemoryStore.of("clip_text", list(texts), np.stack(list(texts.values())))
    expanded = expand_queries(query, exact, expansion)[0]

    image_ids = np.array(list(clip_vectors))
    images = np.stack(list(clip_vectors.values()))
    expected = image_ids[np.argsort(-(images @ expanded))[:5]].tolist()
    unexpanded = image_ids[np.argsort(-(images @ query[0]))[:5]].tolist()
    assert expected != unexpanded
    body = client.post(
        "/search", json={"text": text, "model": "clip", "top_k": 5, "lambda_diversity": 1}
    ).json()
    found = [int(r["product_id"]) for r in body["results"]]
    assert len(set(found) & set(expected)) >= 4, (found, expected)


def test_image_search_finds_the_product_itself(client: httpx.Client) -> None:
    photo = (require_shared() / "images/15970.jpg").read_bytes()
    for model in ("clip", "resnet", "efficientnet"):
        response = client.post(
            "/search",
            files={"image": ("15970.jpg", photo, "image/jpeg")},
            data={"model": model, "top_k": "3", "lambda_diversity": "1.0"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["results"][0]["product_id"] == "15970"
        assert body["results"][0]["ann_score"] > 0.99


def test_every_response_carries_a_request_id(client: httpx.Client) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": "shop-42.a:b"})
    assert echoed.headers["x-request-id"] == "shop-42.a:b"
    generated = client.get("/recommend", params={"product_id": "abc"})
    assert generated.status_code == 404 and len(generated.headers["x-request-id"]) == 32
    crafted = client.get("/health", headers={"X-Request-ID": "evil\tvalue" + "x" * 200})
    assert crafted.headers["x-request-id"] != "evil\tvalue" + "x" * 200
    assert len(crafted.headers["x-request-id"]) == 32
