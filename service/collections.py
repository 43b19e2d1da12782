"""The served collections: one open store per model, opened, switched to rebuilds, watched."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

import anyio

from core.manifest import read_manifests
from core.registry import MODELS
from core.settings import Settings
from service.cache import ResponseCache
from service.encoding import Encoding
from service.errors import RequestError
from service.schemas import Health, ModelInfo
from service.writes import LiveCatalogue
from store import Backend, backend_type, get_backend, open_for_serving
from store.errors import QdrantUnreachableError, UnknownCollectionError
from store.protocol import VectorStore

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

log = logging.getLogger("lookalike.api")
CLOSE_GRACE_S = 10.0  # a replaced build stays open this long for requests already using it
BuildRecord = dict[str, Any]


class Collections:
    """One open store per model and the record of the build it serves.

    `stores` is the write path's map (`LiveCatalogue.stores`), the one every reader and writer
    uses; it changes only under the catalogue's write lock. Build records are read through one backend kept open for the purpose (reopened
    after an outage), so following rebuilds costs no new connection per model and second.
    """

    def __init__(
        self,
        settings: Settings,
        catalogue: LiveCatalogue,
        encoding: Encoding,
        client: QdrantClient | None = None,
    ) -> None:
        self.settings = settings
        kind = backend_type(settings.backend)
        self.writable: bool = kind.writable
        self.blocking: bool = kind.blocking
        self.stores = catalogue.stores  # the collections every write goes to
        self.records: dict[str, BuildRecord] = {}
        self.unreachable: set[str] = set()
        self._client = client  # a given Qdrant client (e.g. local mode) instead of QDRANT_URL
        self._catalogue = catalogue
        self._replica = catalogue.replica
        self._encoding = encoding
        self._backend: Backend | None = None
        self._lock = threading.RLock()  # opening stores; taken before the catalogue's write lock
        self._watching = threading.Event()

    def open_all(self) -> None:
        """Open every model collection that exists (an unreachable server: tried again later)."""
        for model in MODELS:
            with contextlib.suppress(QdrantUnreachableError, UnknownCollectionError):
                self.store(model)

    def store(self, model: str) -> VectorStore | None:
        """The model's open collection; None if it was never indexed.

        A server that was unreachable is asked again on every call (QdrantUnreachableError →
        503), so the API recovers by itself once Qdrant is back.
        """
        if model in self.stores:
            return self.stores[model]
        with self._lock:
            try:
                self._open(model, self._record(model) or {})
            except UnknownCollectionError:
                return None
            except QdrantUnreachableError:
                self.unreachable.add(model)
                raise
            self.unreachable.discard(model)
            return self.stores[model]

    def model_store(self, model: str, allowed: tuple[str, ...]) -> VectorStore:
        """The open collection of `model` if it is one of `allowed`, else a 400 listing them."""
        valid = [m for m in allowed if m in self.available_models()]
        store = self.store(model) if model in valid else None
        if store is None:
            raise RequestError(
                400, f"unknown model {model!r}; valid models: {', '.join(valid)}", "model"
            )
        return store

    def available_models(self) -> list[str]:
        """Models that are open or waiting for the server to come back."""
        return [m for m in MODELS if m in self.stores or m in self.unreachable]

    def build_id(self, model: str) -> str:
        """The id of the build served for `model` ('' when none)."""
        return str(self.records.get(model, {}).get("build_id", ""))

    def _record(self, model: str) -> BuildRecord | None:
        """The live build's record, through the kept backend."""
        if self._backend is None:
            self._backend = get_backend(self.settings, client=self._client)
        try:
            return self._backend.record(model)
        except QdrantUnreachableError:
            backend, self._backend = self._backend, None
            backend.close()
            raise

    def _open(self, model: str, record: BuildRecord) -> VectorStore | None:
        """Open the live build of a collection, replay newer catalogue writes into it and serve
        it; returns the store it replaced."""
        store = open_for_serving(self.settings, model, record=record, client=self._client)
        since = int(record.get("source", {}).get("catalogue_version", 0))
        with self._replica.writing():
            replayed = self._catalogue.reconcile(model, store, since)
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
                record = self._record(model)
            except QdrantUnreachableError:
                continue
            if record is None or record == self.records.get(model):
                continue
            with self._lock:
                old = self._open(model, record)
            if old is not None:
                threading.Timer(CLOSE_GRACE_S, old.close).start()
            switched.append(model)
        if switched:
            self._encoding.reload(read_manifests(self.settings.embeddings_dir, MODELS))
        self._replica.refresh()
        return switched

    def watch(self, every_s: float = 1.0) -> None:
        """Follow rebuilds and other processes' writes in a background thread until `close`."""

        def loop() -> None:
            while not self._watching.wait(every_s):
                try:
                    if switched := self.switch_builds():
                        log.info("switched to new builds: %s", ", ".join(switched))
                except Exception:  # keep watching; the next round retries
                    log.exception("checking for new builds failed")

        threading.Thread(target=loop, name="build-watcher", daemon=True).start()

    def stop(self) -> None:
        """Stop watching."""
        self._watching.set()

    def close(self) -> None:
        """Stop watching and release the stores."""
        self.stop()
        for store in self.stores.values():
            store.close()
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    def describe(self) -> list[ModelInfo]:
        """Served models with collection size, dimension (the store's) and weights source."""
        models = []
        for name in self.available_models():
            info = self.model_store(name, (name,)).info()
            weights = self._encoding.manifests.get(name, {}).get("weights", {})
            models.append(
                ModelInfo(
                    name=name,
                    description=MODELS[name].description,
                    count=info.count,
                    dim=info.dim,
                    weights=str(weights.get("source", "unknown")),
                )
            )
        return models

    def points(self) -> dict[str, str]:
        """Points per served collection, or why it cannot be counted (blocking)."""
        detail: dict[str, str] = {}
        for name in self.available_models():
            try:
                detail[name] = f"{self.model_store(name, (name,)).count()} points"
            except Exception as exc:  # any failure means not ready; report it, don't raise
                detail[name] = f"unavailable: {exc}"
        return detail

    async def readiness(self, cache: ResponseCache | None) -> Health:
        """Ready when the store answers and every collection holds points; says how the
        response cache is (a cache outage means uncached answers, not unreadiness)."""
        detail = await anyio.to_thread.run_sync(self.points)
        ok = bool(detail) and all(
            v.endswith("points") and not v.startswith("0 ") for v in detail.values()
        )
        if not detail:
            detail["collections"] = "none loaded: run `lookalike index`"
        detail["cache"] = "off" if cache is None else f"{cache.kind}: {await cache.check()}"
        return Health(status="ok" if ok else "unavailable", detail=detail)
