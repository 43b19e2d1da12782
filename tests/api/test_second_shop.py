"""A second shop that shares none of the Fashion layout (tests/shop.py), end to end: ingest by
its schema → embed → index → serve → recommend with a facet and a price range → the write API
→ `lookalike sync`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from api.app import create_app
from catalogue.database import CatalogueDB
from catalogue.fill import build_catalog
from catalogue.sync import run_sync
from core.schema import load_schema
from core.settings import Settings
from service.app import Services
from tests.api.live import API_KEY, AUTH
from tests.conftest import ALL_MODELS
from tests.serving import serve_in_thread
from tests.shop import write_shop

ROWS = 150
NEW_ID = 990_001


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Settings]]:
    """The shop ingested, embedded with every model, indexed and served."""
    from embed.batch import embed_catalog
    from embed.loader import NetworkLoader
    from store import BuildOptions
    from store.indexing import index_models

    root = tmp_path_factory.mktemp("second-shop")
    source = write_shop(root / "raw", ROWS)
    settings = Settings(source=source, data_dir=root / "data", api_key=API_KEY)
    schema = load_schema(source / "schema.toml")
    build_catalog(source, settings.catalog_dir, workers=1, schema=schema)
    embed_catalog(settings, ALL_MODELS, NetworkLoader())
    index_models(settings, None, backend="qdrant-embedded", options=BuildOptions(), progress=False)
    services = Services.load(settings)
    with serve_in_thread(create_app(services, watch_builds=False), "shop API") as url:
        yield httpx.Client(base_url=url, timeout=60), settings
    services.close()


def _record(settings: Settings, product_id: int) -> dict | None:
    database = CatalogueDB(settings.catalogue_db)
    try:
        return database.get(product_id)
    finally:
        database.close()


def test_the_api_serves_the_shops_schema_and_filters(
    shop: tuple[httpx.Client, Settings],
) -> None:
    http, settings = shop
    assert http.get("/schema").json() == load_schema(settings.source / "schema.toml").as_dict()
    query = http.get("/products/random").json()["product_id"]
    params = {"product_id": query, "model": "clip", "top_k": 4, "candidates": 100}
    filtered = {**params, "department": "Apparel", "price_min": 20, "price_max": 60}
    response = http.get("/recommend", params=filtered)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"] and body["parameters"]["filters"] == {
        "department": "Apparel",
        "price_min": 20,
        "price_max": 60,
    }
    for result in body["results"]:
        record = _record(settings, int(result["product_id"]))
        assert record is not None and record["department"] == "Apparel"
        assert 20 <= record["price"] <= 60
    hard = http.get("/recommend", params={**params, "category_mode": "hard"}).json()
    kind = (_record(settings, int(query)) or {})["kind"]
    assert all(
        (_record(settings, int(r["product_id"])) or {})["kind"] == kind for r in hard["results"]
    )
    fashion = http.get("/recommend", params={**params, "gender": "Men"})
    assert fashion.status_code == 400
    assert "department, colour, audience, price_min, price_max" in fashion.json()["detail"]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (20, 40, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_writes_and_sync_follow_the_schema(
    shop: tuple[httpx.Client, Settings], tmp_path: Path
) -> None:
    http, settings = shop
    metadata = {
        "id": NEW_ID,
        "name": "Blue  canvas tote",
        "department": "Accessories",
        "kind": "Handbags",
        "colour": "Blue",
        "audience": "Women",
        "price": "42.50",
    }
    files = {"image": ("tote.png", _png(), "image/png")}
    created = http.post(
        "/products", data={"metadata": json.dumps(metadata)}, files=files, headers=AUTH
    )
    assert created.status_code == 201, created.text
    assert created.json()["product"]["name"] == "Blue canvas tote"
    record = _record(settings, NEW_ID)
    assert record is not None and record["price"] == 42.5 and record["title"] == "Blue  canvas tote"
    assert http.get("/recommend", params={"product_id": NEW_ID}).status_code == 200
    patched = http.patch(f"/products/{NEW_ID}", json={"price": 19.99}, headers=AUTH)
    assert patched.status_code == 200, patched.text
    assert (_record(settings, NEW_ID) or {})["price"] == 19.99
    refused = http.patch(f"/products/{NEW_ID}", json={"gender": "Men"}, headers=AUTH)
    assert refused.status_code == 400 and refused.json()["field"] == "gender"
    assert http.delete(f"/products/{NEW_ID}", headers=AUTH).status_code == 204
    assert http.get(f"/products/{NEW_ID}").status_code == 404

    table = settings.source / "export/products.jsonl"
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    renamed, removed = rows[0]["sku"], rows[1]["sku"]
    rows[0]["title"] = "Renamed By Sync"
    changed = tmp_path / "raw"
    (changed / "export").mkdir(parents=True)
    (changed / "export/products.jsonl").write_text(
        "\n".join(json.dumps(r) for r in [rows[0], *rows[2:]]) + "\n"
    )
    (changed / "media").symlink_to(settings.source / "media")
    database = CatalogueDB(settings.catalogue_db)
    try:
        summary = run_sync(changed, database, str(http.base_url), API_KEY)
    finally:
        database.close()
    assert "0 added, 1 updated, 1 deleted" in summary, summary
    assert http.get(f"/products/{renamed}").json()["name"] == "Renamed By Sync"
    assert http.get(f"/products/{removed}").status_code == 404
