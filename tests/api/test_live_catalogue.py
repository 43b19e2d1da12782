"""The write API on a real API over a private copy of the indexed slice (embedded Qdrant)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import numpy as np
import pytest
from qdrant_client import QdrantClient

from api.app import create_app
from catalogue.database import CatalogueDB
from catalogue.records import MAX_UPLOAD
from core.registry import MODELS
from core.settings import Settings
from service.app import Services
from store import BuildOptions
from store.indexing import index_models
from store.protocol import Payload, Vector, VectorStore
from tests.api.live import AUTH, copy_data, metadata, photo, post_product, put_product
from tests.serving import serve_in_thread
from tests.store.docker_engine import qdrant_container_client

TWIN_OF = 15970  # an ingested product whose photo and metadata a test adds again
NEW_ID = 9_000_001


@pytest.fixture(scope="module")
def live(slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Services over a private copy of the indexed slice, writes enabled."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("live") / "data")
    services = Services.load(settings)
    yield services
    services.close()


@pytest.fixture(scope="module")
def http(live: Services) -> Iterator[httpx.Client]:
    """A client of the real API over the live services."""
    with (
        serve_in_thread(create_app(live, watch_builds=False), "live API") as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


def _vectors(live: Services, product_id: int) -> dict[str, Vector]:
    found = {}
    for model in MODELS:
        store = live.store(model)
        assert store is not None
        vector = store.vectors([product_id]).get(product_id)
        if vector is not None:
            found[model] = vector
    return found


def test_writes_need_the_key_and_reads_stay_open(http: httpx.Client) -> None:
    fields = metadata(NEW_ID)
    missing = post_product(http, fields, photo(TWIN_OF), headers={})
    assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = post_product(http, fields, photo(TWIN_OF), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert http.delete(f"/products/{TWIN_OF}").status_code == 401
    assert http.patch(f"/products/{TWIN_OF}", json={"name": "x"}).status_code == 401
    assert http.get(f"/products/{TWIN_OF}").status_code == 200
    assert http.get(f"/products/{NEW_ID}").status_code == 404


def test_writes_are_refused_without_a_configured_key(live: Services) -> None:
    keyless = Services.load(replace(live.settings, api_key=None))
    with serve_in_thread(create_app(keyless, watch_builds=False), "keyless API") as url:
        response = post_product(httpx.Client(base_url=url), metadata(NEW_ID), photo(TWIN_OF))
    assert response.status_code == 403
    assert "LOOKALIKE_API_KEY" in response.json()["detail"]


def test_an_added_twin_gets_the_batch_vectors_in_every_model(
    http: httpx.Client, live: Services
) -> None:
    twin = live.catalogue.get(TWIN_OF)
    assert twin is not None
    fields = {f: twin[f] for f in ("name", "gender", "masterCategory", "subCategory")}
    fields |= {f: twin[f] for f in ("articleType", "baseColour", "season", "year", "usage")}
    version = http.get("/catalog").json()["version"]
    response = post_product(http, {"id": NEW_ID, **fields}, photo(TWIN_OF))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["product"]["product_id"] == str(NEW_ID) and body["product"]["has_image"]
    assert sorted(body["models"]) == sorted(MODELS)
    assert body["catalogue_version"] == version + 1
    mine, batch = _vectors(live, NEW_ID), _vectors(live, TWIN_OF)
    assert set(mine) == set(MODELS)
    for model in MODELS:
        np.testing.assert_allclose(mine[model], batch[model], atol=1e-5, err_msg=model)
    # Visible at once: lookup, name search, recommendations and text search.
    assert http.get(f"/products/{NEW_ID}").json()["name"] == twin["name"]
    assert any(
        p["product_id"] == str(NEW_ID)
        for p in http.get("/products", params={"q": twin["name"], "limit": 100}).json()
    )
    for model in ("resnet", "clip", "hybrid"):
        results = http.get(
            "/recommend", params={"product_id": TWIN_OF, "model": model, "top_k": 3}
        ).json()["results"]
        assert results[0]["product_id"] == str(NEW_ID), model
    assert http.get(f"/products/{NEW_ID}/image").content.startswith(b"\x89PNG")
    again = post_product(http, {"id": NEW_ID, **fields}, photo(TWIN_OF))
    assert again.status_code == 409 and again.json()["field"] == "id"


@pytest.mark.parametrize(
    ("image", "status", "reason"),
    [
        (b"not an image at all", 415, "corrupt"),
        (photo(TWIN_OF)[:300], 415, "truncated"),
        (b"", 400, "empty"),
        (b"\xff" * (MAX_UPLOAD + 1), 413, "limit"),
    ],
)
def test_a_bad_image_is_refused_and_nothing_is_written(
    http: httpx.Client, image: bytes, status: int, reason: str
) -> None:
    before = http.get("/catalog").json()
    response = post_product(http, metadata(NEW_ID + 1), image)
    assert response.status_code == status
    assert reason in response.json()["detail"] and response.json()["field"] == "image"
    assert http.get(f"/products/{NEW_ID + 1}").status_code == 404
    assert http.get("/catalog").json() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "12a"}, "id"),
        ({"id": -4}, "id"),
        ({"id": NEW_ID + 2, "year": "soon"}, "year"),
        ({"id": NEW_ID + 2, "colour": "red"}, "colour"),
        ({"id": NEW_ID + 2, "name": ["a"]}, "name"),
    ],
)
def test_bad_metadata_names_the_field(
    http: httpx.Client, fields: dict[str, Any], field: str
) -> None:
    response = post_product(http, fields)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_metadata_must_be_a_json_object(http: httpx.Client) -> None:
    response = http.post("/products", data={"metadata": "[1, 2]"}, headers=AUTH)
    assert response.status_code == 400 and response.json()["field"] == "metadata"
    as_json = http.post("/products", json=metadata(NEW_ID + 3), headers=AUTH)
    assert as_json.status_code == 415


def test_a_product_without_image_is_kept_text_only(http: httpx.Client, live: Services) -> None:
    response = post_product(http, metadata(NEW_ID + 4, name="  Plain   cotton tee  ", year="2021"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["models"] == ["clip_text"]
    assert body["product"]["name"] == "Plain cotton tee" and body["product"]["year"] == 2021
    assert not body["product"]["has_image"] and body["product"]["image_url"] is None
    assert set(_vectors(live, NEW_ID + 4)) == {"clip_text"}
    found = http.post("/search", json={"text": "plain cotton tee", "model": "clip_text"}).json()
    assert str(NEW_ID + 4) in [r["product_id"] for r in found["results"]]


def test_patch_reembeds_what_the_text_decides(http: httpx.Client, live: Services) -> None:
    pid = NEW_ID + 5
    assert post_product(http, metadata(pid), photo(TWIN_OF)).status_code == 201
    before = _vectors(live, pid)
    response = http.patch(
        f"/products/{pid}", json={"name": "Red silk saree", "articleType": "Sarees"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json()["product"]["articleType"] == "Sarees"
    after = _vectors(live, pid)
    for model in ("resnet", "efficientnet", "clip"):
        np.testing.assert_allclose(after[model], before[model], atol=1e-6)
    for model in ("clip_text", "hybrid"):
        assert not np.allclose(after[model], before[model], atol=1e-3), model
    payload = live.store("clip").payloads([pid])[pid]  # type: ignore[union-attr]
    assert payload["articleType"] == "Sarees" and payload["name"] == "Red silk saree"
    bad = http.patch(f"/products/{pid}", json={"id": 5}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["field"] == "id"
    assert http.patch("/products/77777777", json={"name": "x"}, headers=AUTH).status_code == 404


def test_put_creates_then_replaces_and_a_new_image_gets_a_new_etag(
    http: httpx.Client, live: Services
) -> None:
    pid = NEW_ID + 6
    created = put_product(http, pid, metadata(pid), photo(TWIN_OF))
    assert created.status_code == 201, created.text
    etag = http.get(f"/products/{pid}/image").headers["etag"]
    replaced = put_product(http, pid, metadata(pid, name="Another photo"), photo(39386))
    assert replaced.status_code == 200 and replaced.json()["product"]["name"] == "Another photo"
    assert http.get(f"/products/{pid}/image").headers["etag"] != etag
    resnet = live.store("resnet")
    assert resnet is not None
    np.testing.assert_allclose(
        resnet.vectors([pid])[pid], resnet.vectors([39386])[39386], atol=1e-5
    )
    mismatch = put_product(http, pid, metadata(pid + 1))
    assert mismatch.status_code == 400 and mismatch.json()["field"] == "id"
    text_only = put_product(http, pid, metadata(pid))
    assert text_only.json()["models"] == ["clip_text"]
    assert "resnet" not in _vectors(live, pid)


def test_delete_removes_everywhere(http: httpx.Client, live: Services) -> None:
    pid = NEW_ID + 7
    assert post_product(http, metadata(pid), photo(TWIN_OF)).status_code == 201
    catalog = http.get("/catalog").json()
    response = http.delete(f"/products/{pid}", headers=AUTH)
    assert response.status_code == 204 and response.content == b""
    assert http.get(f"/products/{pid}").status_code == 404
    assert _vectors(live, pid) == {}
    after = http.get("/catalog").json()
    assert after["products"] == catalog["products"] - 1
    assert after["version"] == catalog["version"] + 1 and after["last_write"]
    assert http.delete(f"/products/{pid}", headers=AUTH).status_code == 404
    assert http.delete("/products/²", headers=AUTH).status_code == 404


class RefusingStore:
    """A real store whose upserts fail, as a full disk or a lost server would make them."""

    def __init__(self, inner: VectorStore) -> None:
        self.inner = inner

    def upsert(self, ids: Any, vectors: Vector, payloads: list[Payload]) -> None:
        raise OSError("No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_refused_collection_write_rolls_back_everywhere(
    http: httpx.Client, live: Services
) -> None:
    pid = NEW_ID + 8
    before = http.get("/catalog").json()
    inner = live.stores["hybrid"]
    live.stores["hybrid"] = RefusingStore(inner)  # type: ignore[assignment]
    try:
        response = post_product(http, metadata(pid), photo(TWIN_OF))
    finally:
        live.stores["hybrid"] = inner
    assert response.status_code == 503
    assert "rolled back" in response.json()["detail"] and "hybrid" in response.json()["detail"]
    assert _vectors(live, pid) == {}
    assert http.get(f"/products/{pid}").status_code == 404
    assert http.get("/catalog").json()["products"] == before["products"]


def test_catalog_reports_counts_and_version(http: httpx.Client, live: Services) -> None:
    body = http.get("/catalog").json()
    stats = live.catalogue.database.stats()
    assert body["products"] == stats.products == body["with_image"] + body["without_image"]
    assert body["version"] == live.catalogue.version and body["writes_enabled"]


def test_openapi_lists_the_write_routes(http: httpx.Client) -> None:
    paths = http.get("/openapi/openapi.json").json()["paths"]
    assert {"post"} <= set(paths["/products"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/products/{product_id}"])
    assert "/catalog" in paths
    assert json.dumps(paths["/products"]["post"]).count("401") >= 1
    allowed = http.options(f"/products/{TWIN_OF}").headers["allow"]
    assert allowed == "DELETE, GET, OPTIONS, PATCH, PUT"


def test_faiss_serves_read_only_and_refuses_writes(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = replace(
        copy_data(slice_snapshot, tmp_path_factory.mktemp("faiss") / "data"), backend="faiss"
    )
    index_models(settings, ["clip"], backend="faiss", options=BuildOptions(), progress=False)
    services = Services.load(settings)
    with (
        serve_in_thread(create_app(services, watch_builds=False), "FAISS API") as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        refused = post_product(client, metadata(NEW_ID + 20), photo(TWIN_OF))
        assert refused.status_code == 501 and "read-only" in refused.json()["detail"]
        assert client.delete(f"/products/{TWIN_OF}", headers=AUTH).status_code == 501
        assert client.get(f"/products/{NEW_ID + 20}").status_code == 404
        assert client.get("/catalog").json()["writes_enabled"] is False
        assert client.get("/recommend", params={"product_id": TWIN_OF}).status_code == 200


@pytest.fixture(params=["local", "container"])
def qdrant_client(request: pytest.FixtureRequest) -> Iterator[QdrantClient]:
    """qdrant-client's local mode, and a real Qdrant server in a container where Docker runs."""
    if request.param == "local":
        yield QdrantClient(":memory:")
        return
    with qdrant_container_client() as client:
        yield client


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
@pytest.mark.filterwarnings("ignore:Local mode performs exact")
def test_the_write_contract_on_the_qdrant_server_backend(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory, qdrant_client: QdrantClient
) -> None:
    """The server backend: the same contract as the embedded engine."""
    client = qdrant_client
    settings = replace(
        copy_data(slice_snapshot, tmp_path_factory.mktemp("server") / "data"), backend="qdrant"
    )
    index_models(
        settings, None, backend="qdrant", options=BuildOptions(), client=client, progress=False
    )
    services = Services.load(settings, client)
    pid = NEW_ID + 30
    with (
        serve_in_thread(create_app(services, watch_builds=False), "server-backend API") as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        twin = services.catalogue.get(TWIN_OF)
        assert twin is not None
        fields = {f: twin[f] for f in ("name", "gender", "masterCategory", "subCategory")}
        fields |= {f: twin[f] for f in ("articleType", "baseColour", "season", "year", "usage")}
        created = post_product(http, {"id": pid, **fields}, photo(TWIN_OF))
        assert created.status_code == 201, created.text
        assert sorted(created.json()["models"]) == sorted(MODELS)
        mine, batch = _vectors(services, pid), _vectors(services, TWIN_OF)
        for model in MODELS:
            np.testing.assert_allclose(mine[model], batch[model], atol=1e-5, err_msg=model)
        renamed = http.patch(f"/products/{pid}", json={"name": "Renamed"}, headers=AUTH)
        assert renamed.status_code == 200
        assert services.store("clip").payloads([pid])[pid]["name"] == "Renamed"  # type: ignore[union-attr]
        assert http.delete(f"/products/{pid}", headers=AUTH).status_code == 204
        assert _vectors(services, pid) == {}


def test_writes_of_another_process_are_taken_in(live: Services) -> None:
    """Several API processes share the database: each takes in the others' writes."""
    twin = live.catalogue.get(TWIN_OF)
    assert twin is not None
    other = CatalogueDB(live.settings.catalogue_db)  # as another process would open it
    other.put({**twin, "id": NEW_ID + 40, "name": "written elsewhere"})
    assert live.catalogue.get(NEW_ID + 40) is None
    live.catalogue.refresh()
    record = live.catalogue.get(NEW_ID + 40)
    assert record is not None and record["name"] == "written elsewhere"
    other.delete(NEW_ID + 40)
    other.close()
    live.catalogue.refresh()
    assert live.catalogue.get(NEW_ID + 40) is None
    assert live.catalogue.version == live.catalogue.database.version


def test_another_process_write_is_taken_in_only_once_it_is_in_the_collections(
    live: Services,
) -> None:
    """Between another writer's commit and its upserts nothing may take the new version in
    (answers cached under it would be stale); its lock keeps `refresh` out until it is done."""
    twin = live.catalogue.get(TWIN_OF)
    assert twin is not None
    other = CatalogueDB(live.settings.catalogue_db)
    refreshed = threading.Event()

    def refresh() -> None:
        live.catalogue.refresh()
        refreshed.set()

    refresher = threading.Thread(target=refresh)
    with other.publishing(exclusive=True):  # as a writer between its commit and its upserts
        other.put({**twin, "id": NEW_ID + 41, "name": "still publishing"})
        refresher.start()
        assert not refreshed.wait(0.5), "a write was taken in before its collections had it"
        assert live.catalogue.get(NEW_ID + 41) is None
    assert refreshed.wait(30)
    assert live.catalogue.get(NEW_ID + 41) is not None
    other.delete(NEW_ID + 41)
    other.close()
    live.catalogue.refresh()


class BlockingStore(RefusingStore):
    """A real store whose upserts wait until the test lets them through."""

    def __init__(self, inner: VectorStore) -> None:
        super().__init__(inner)
        self.entered, self.release = threading.Event(), threading.Event()

    def upsert(self, ids: Any, vectors: Vector, payloads: list[Payload]) -> None:
        self.entered.set()
        self.release.wait(60)
        self.inner.upsert(ids, vectors, payloads)


def test_a_write_holds_the_publish_lock_until_every_collection_has_it(
    http: httpx.Client, live: Services
) -> None:
    pid = NEW_ID + 42
    blocking = BlockingStore(live.stores["hybrid"])
    live.stores["hybrid"] = blocking  # type: ignore[assignment]
    answers: list[httpx.Response] = []
    writer = threading.Thread(
        target=lambda: answers.append(post_product(http, metadata(pid), photo(TWIN_OF)))
    )
    reader = CatalogueDB(live.settings.catalogue_db)  # as another process would open it
    published = threading.Event()

    def wait_for_publish() -> None:
        with reader.publishing(exclusive=False):
            published.set()

    try:
        writer.start()
        assert blocking.entered.wait(60), "the write never reached the hybrid collection"
        threading.Thread(target=wait_for_publish, daemon=True).start()
        assert not published.wait(0.5), "the lock was free while a collection was being written"
        blocking.release.set()
        assert published.wait(30)
    finally:
        blocking.release.set()
        writer.join(60)
        live.stores["hybrid"] = blocking.inner
        reader.close()
    assert answers and answers[0].status_code == 201, answers
    assert http.delete(f"/products/{pid}", headers=AUTH).status_code == 204
