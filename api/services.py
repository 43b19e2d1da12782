"""What the API serves from: the catalogue, one open store per model, category similarity, encoders."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from api.cache import ResponseCache, open_cache
from api.errors import ApiError
from api.schemas import Product
from catalogue.database import CatalogueDB
from catalogue.live import LiveCatalogue
from embed.hybrid import recorded_weights
from embed.online import Encoders
from embed.registry import MODELS, NETWORKS
from embed.sources import WeightsSource
from embed.text import category_prompt
from lookalike.settings import Settings
from recommend.categories import CategorySimilarity, Vectors
from store import collection_record, open_for_serving
from store.errors import QdrantUnreachableError, UnknownCollectionError
from store.protocol import VectorStore

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

T = TypeVar("T")
log = logging.getLogger("lookalike.api")
CLOSE_GRACE_S = 10.0  # a replaced build stays open this long for requests already using it
DESCRIPTIONS = {
    "resnet": "Visual only (ResNet): shape and texture look-alikes, blind to category labels.",
    "efficientnet": "Visual only (EfficientNet): a second visual opinion, often more diverse.",
    "clip": "Exploratory (CLIP image, in the text space): visual + semantic neighbours, "
    "crosses categories; text searches it.",
    "hybrid": "Business-controlled (image + text + category): stays within the category.",
    "clip_text": "Text (pretrained MiniLM): products whose descriptions mean alike.",
}


def product_view(record: Mapping[str, Any]) -> Product:
    """The API view of a catalogue row."""
    has_image = bool(record["has_image"])
    return Product(
        product_id=str(record["id"]),
        name=record.get("name"),
        gender=record.get("gender"),
        masterCategory=record.get("masterCategory"),
        subCategory=record.get("subCategory"),
        articleType=record.get("articleType"),
        baseColour=record.get("baseColour"),
        season=record.get("season"),
        year=record.get("year"),
        usage=record.get("usage"),
        has_image=has_image,
        image_url=f"/products/{record['id']}/image" if has_image else None,
    )


def read_manifests(settings: Settings) -> dict[str, dict[str, Any]]:
    """The embedding manifest of every model that has one."""
    return {
        model: json.loads(path.read_text())
        for model in MODELS
        if (path := settings.embeddings_dir / model / "manifest.json").is_file()
    }


class Services:
    """Everything the handlers need: the live catalogue, one open store per model, category
    similarity and the encoders. A watcher thread follows rebuilds (`switch_builds`)."""

    def __init__(
        self,
        settings: Settings,
        database: CatalogueDB,
        categories: CategorySimilarity,
        manifests: dict[str, dict[str, Any]],
        client: QdrantClient | None = None,
    ) -> None:
        self.settings = settings
        self._client = client  # a given Qdrant client (e.g. local mode) instead of QDRANT_URL
        self.categories = categories
        self.manifests = manifests
        self.stores: dict[str, VectorStore] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.unreachable: set[str] = set()
        self.catalogue = LiveCatalogue(
            database, settings.data_dir, lambda: dict(self.stores), lambda: self.encoders
        )
        self._encoders: Encoders | None = None
        self._lock = threading.RLock()  # opening stores; taken before the catalogue's write lock
        self._encoders_lock = threading.Lock()
        self._watching = threading.Event()
        # Every model call runs on this one thread: torch's OpenMP pool is per calling thread,
        # and several pools spinning on two cores made each write several times slower.
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="models")
        self.cache: ResponseCache | None = open_cache(settings)

    @classmethod
    def load(cls, settings: Settings, client: QdrantClient | None = None) -> Services:
        """Open the catalogue, the category matrix and every model collection that exists
        (`client`: the Qdrant client the `qdrant` backend uses instead of QDRANT_URL)."""
        manifests = read_manifests(settings)

        def encode_categories(names: Sequence[str]) -> Vectors:
            # A new articleType gets its vector from its name, with the query encoder.
            return services.encoders.encode_texts([category_prompt(name) for name in names])

        categories = CategorySimilarity.load(
            settings.embeddings_dir / "categories", encode_categories
        )
        services = cls(settings, CatalogueDB(settings.catalogue_db), categories, manifests, client)
        for model in MODELS:
            with contextlib.suppress(QdrantUnreachableError, UnknownCollectionError):
                services.store(model)
        return services

    def store(self, model: str) -> VectorStore | None:
        """The model's open collection; None if it was never indexed.

        A server that was unreachable is asked again on every call (QdrantUnreachableError →
        503), so the API recovers by itself once Qdrant is back.
        """
        if model in self.stores:
            return self.stores[model]
        with self._lock:
            try:
                self._open(model)
            except UnknownCollectionError:
                return None
            except QdrantUnreachableError:
                self.unreachable.add(model)
                raise
            self.unreachable.discard(model)
            return self.stores[model]

    def _open(self, model: str) -> VectorStore | None:
        """Open the live build of a collection, replay newer catalogue writes into it and serve
        it; returns the store it replaced."""
        record = collection_record(self.settings, model, client=self._client) or {}
        store = open_for_serving(self.settings, model, client=self._client)
        since = int(record.get("source", {}).get("catalogue_version", 0))
        with self.catalogue.writing():
            replayed = self.catalogue.reconcile(model, store, since)
            old = self.stores.get(model)
            self.stores[model], self.records[model] = store, record
        if replayed:
            log.info("%s: replayed %d catalogue writes into the new build", model, replayed)
        return old

    def switch_builds(self) -> list[str]:
        """Serve every collection rebuilt since it was opened (no restart, no failed request):
        the old build closes once in-flight requests are done. Returns the models switched."""
        switched = []
        for model in MODELS:
            try:
                record = collection_record(self.settings, model, client=self._client)
            except QdrantUnreachableError:
                continue
            if record is None or record == self.records.get(model):
                continue
            with self._lock:
                old = self._open(model)
            if old is not None:
                threading.Timer(CLOSE_GRACE_S, old.close).start()
            switched.append(model)
        if switched:
            self.reload_manifests()
        self.catalogue.refresh()
        return switched

    def reload_manifests(self) -> None:
        """Read the embedding manifests again; new weights mean new encoders for writes."""
        manifests = read_manifests(self.settings)
        with self._encoders_lock:
            if manifests != self.manifests:
                self.manifests, self._encoders = manifests, None

    def watch(self, every_s: float = 1.0) -> None:
        """Follow rebuilds and other processes' writes in a background thread until `close`
        (which first loads the encoders when this server takes writes)."""

        if self.writable and self.settings.api_key:
            self._model_thread.submit(self._warm_up)  # the first write should not wait for it

        def loop() -> None:
            while not self._watching.wait(every_s):
                try:
                    if switched := self.switch_builds():
                        log.info("switched to new builds: %s", ", ".join(switched))
                except Exception:  # keep watching; the next round retries
                    log.exception("checking for new builds failed")

        threading.Thread(target=loop, name="build-watcher", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.encoders.warm_up()
        except Exception:  # a write will load them, and report the problem, later
            log.exception("loading the encoders at start failed")

    def answer_scope(self, model: str) -> tuple[int, str]:
        """What a cached answer of `model` depends on besides the request: the catalogue
        version and the collection's build."""
        return self.catalogue.version, str(self.records.get(model, {}).get("build_id", ""))

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work in a worker thread, keeping the event loop free."""
        return await anyio.to_thread.run_sync(function, *args)

    async def store_work(self, function: Callable[..., T], *args: Any) -> T:
        """Run a pipeline call: in a worker thread when the store waits (a Qdrant server's
        network calls, FAISS, which releases the GIL), inline for the embedded engine. Its
        searches hold the GIL for their ~0.35 ms, so a thread can neither overlap them nor free
        the loop meanwhile; it only added 14 % per request (bench api, 1 connection)."""
        if self.settings.backend == "qdrant-embedded":
            return function(*args)
        return await self.in_thread(function, *args)

    async def on_model_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run model (torch) work on the services' one model thread, off the event loop."""
        return await asyncio.wrap_future(self._model_thread.submit(function, *args))

    def product(self, product_id: int) -> Product | None:
        """A catalogue product as the API shows it, or None."""
        record = self.catalogue.get(product_id)
        return None if record is None else product_view(record)

    def payload(self, product_id: int) -> dict[str, Any]:
        """The catalogue metadata of a product (the pipeline's payload source)."""
        return self.catalogue.get(product_id) or {}

    def available_models(self) -> list[str]:
        """Models that are open or waiting for the server to come back."""
        return [m for m in MODELS if m in self.stores or m in self.unreachable]

    async def close_cache(self) -> None:
        """Release the response cache's connections."""
        if self.cache is not None:
            await self.cache.close()

    def close(self) -> None:
        """Stop watching and release the stores and the database."""
        self._watching.set()
        self._model_thread.shutdown(wait=True, cancel_futures=True)
        for store in self.stores.values():
            store.close()
        self.catalogue.database.close()

    def find(self, query: str, limit: int) -> list[Product]:
        """Products whose name contains every word of `query`, shortest names first."""
        return [product_view(r) for r in self.catalogue.database.find(query.split(), limit)]

    def random_product(self) -> Product:
        """A random product that has an image."""
        ids = self.catalogue.ids_with_image()
        if not ids:
            raise ApiError(404, "the catalogue has no product with an image yet")
        return self.product(random.choice(ids)) or self.random_product()

    @property
    def writable(self) -> bool:
        """Whether the backend takes writes (FAISS serves read-only builds)."""
        return self.settings.backend != "faiss"

    @property
    def encoders(self) -> Encoders:
        """The online image/text encoders, loaded on first use (thread-safe)."""
        with self._encoders_lock:
            if self._encoders is None:
                # Encode queries with the very weights the indexed vectors were made with.
                sources = {
                    m["network"]: WeightsSource(m["weights"]["source"], m["weights"]["ref"])
                    for m in self.manifests.values()
                    if m.get("network") in NETWORKS
                }
                self._encoders = Encoders(
                    sources,
                    hybrid=recorded_weights(self.manifests.get("hybrid")),
                    category_names=self.categories.names,
                )
            return self._encoders
