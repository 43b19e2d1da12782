"""Product writes applied to the catalogue database and every model's collection.

A write is checked, embedded by every served model with the online encoders (the vectors the
batch path gives), committed to the catalogue database (the durable log), then upserted into
every collection. If a collection refuses it, the collections already written and the database
go back to the previous state and the error says so. A process killed between the commit and
the collections is repaired at the next start by `reconcile`, which also replays writes into a
collection built from an older catalogue version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from catalogue.database import Record
from catalogue.images import ProductImages
from catalogue.records import Metadata, ProductImage, image_fields
from core.errors import LookalikeError
from core.registry import get_model
from embed.text import product_text
from service.encoding import Encoding
from service.errors import RequestError
from service.execution import Execution
from service.replica import CatalogueReplica
from store.indexing import payload_fields
from store.protocol import Payload, Vector, VectorStore


class UnknownProductError(LookalikeError):
    """No product with this id."""


class ProductExistsError(LookalikeError):
    """A create for an id the catalogue already holds."""


class StoreWriteError(LookalikeError):
    """A collection refused a write; everything was rolled back."""


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the stored product (None after a delete), the models holding it, the
    catalogue version it produced."""

    record: Record | None
    models: tuple[str, ...]
    version: int


class LiveCatalogue:
    """Writes to the catalogue and to every served collection, all or nothing.

    Its dependencies are handed in: the replica (the in-memory catalogue and the write lock),
    the product images and the encoding (the current encoders: a rebuild may bring new
    weights). `stores`, the collections every write goes to, is read under the write lock, so
    a build switch cannot slip between a write and its collections.
    """

    def __init__(
        self,
        replica: CatalogueReplica,
        images: ProductImages,
        encoding: Encoding,
    ) -> None:
        self.replica = replica
        self.database = replica.database
        self.schema = replica.database.schema
        self.payload_fields = payload_fields(self.schema)
        self.images = images
        self.stores: dict[str, VectorStore] = {}  # filled by `service.collections.Collections`
        self._encoding = encoding

    def payload(self, record: Record | None) -> Payload | None:
        """The collection payload of a catalogue row (None: no row)."""
        return None if record is None else {f: record.get(f) for f in self.payload_fields}

    def create(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Add a product; ProductExistsError if the id is taken."""
        with self.replica.publishing():
            if self.replica.get(product_id) is not None:
                raise ProductExistsError(
                    f"product {product_id} already exists; replace it with PUT /products/"
                    f"{product_id} or change fields with PATCH"
                )
            return self._put(product_id, fields, image)

    def put(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Create or replace a product (all metadata fields; no image: kept text-only)."""
        with self.replica.publishing():
            return self._put(product_id, fields, image)

    def patch(self, product_id: int, fields: Mapping[str, Any]) -> WriteResult:
        """Change some metadata fields of an existing product; its image stays."""
        with self.replica.publishing():
            old = self._require(product_id)
            return self._write(product_id, {**old, **fields})

    def delete(self, product_id: int) -> WriteResult:
        """Remove a product from the catalogue and every collection."""
        with self.replica.publishing():
            self._require(product_id)
            return self._write(product_id, None)

    def _require(self, product_id: int) -> Record:
        record = self.replica.get(product_id)
        if record is None:
            raise UnknownProductError(
                f"no product with id {product_id}; find ids with GET /products?q="
            )
        return record

    def _put(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        image_file = self.images.save(product_id, image) if image else None
        record = {"id": product_id, **fields, **image_fields(image, image_file)}
        return self._write(product_id, record)

    def _write(self, product_id: int, record: Record | None) -> WriteResult:
        """Commit and upsert everywhere, or roll back everywhere (`publishing` is held)."""
        old = self.replica.get(product_id)
        stores = dict(self.stores)
        vectors = {} if record is None else self.vectors(record, stores)
        if record is None:
            version = self.database.delete(product_id)
        else:
            version = self.database.put(record)
            record = {**record, "version": version}
        try:
            apply_write(product_id, self.payload(record), vectors, stores)
        except StoreWriteError:
            self._restore_database(product_id, old)
            self.replica.take_in_changes()  # the write and its undo: two versions, as it was
            raise
        self.replica.remember(product_id, record)
        # Only now, with every collection written, may answers be cached under the new version.
        self.replica.advance(version)
        if old is not None and old.get("image_file") != (record or {}).get("image_file"):
            self.images.discard(old.get("image_file"))
        held = tuple(m for m, v in vectors.items() if v is not None)
        return WriteResult(record, held, version)

    def _restore_database(self, product_id: int, old: Record | None) -> None:
        """Undo a write in the database."""
        if old is None:
            self.database.delete(product_id)
        else:
            self.database.put(old)

    def vectors(
        self, record: Record, stores: Mapping[str, VectorStore]
    ) -> dict[str, Vector | None]:
        """Each model's vector of a product (None: the model cannot hold it, no image)."""
        encoders = self._encoding.encoders
        path = self.images.path(record)
        image = None
        if record.get("has_image") and path is not None:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        text = product_text(record, self.schema)
        category = str(record.get(self.schema.category) or "")
        return {model: encoders.encode_product(model, image, text, category) for model in stores}

    def reconcile(self, model: str, store: VectorStore, since_version: int) -> int:
        """Bring a collection up to the catalogue: replay every product written after
        `since_version` whose stored state differs. Returns how many were replayed."""
        with self.replica.publishing():  # from the latest state, never over another's write
            changed = sorted(
                {c.id for c in self.database.changes_since(since_version) if c.id is not None}
            )
            stored = store.payloads(changed)
            stale = []
            for product_id in changed:
                record = self.replica.get(product_id)
                wanted = record is not None and (
                    get_model(model).input == "text" or bool(record["has_image"])
                )
                held = stored.get(product_id)
                if wanted != (held is not None) or (
                    wanted
                    and held is not None
                    and record is not None
                    and held.get("version") != record["version"]
                ):
                    stale.append(product_id)
            for product_id in stale:
                record = self.replica.get(product_id)
                vectors = {} if record is None else self.vectors(record, {model: store})
                apply_write(product_id, self.payload(record), vectors, {model: store})
            return len(stale)


def apply_write(
    product_id: int,
    payload: Payload | None,
    vectors: Mapping[str, Vector | None],
    stores: Mapping[str, VectorStore],
) -> None:
    """Write one product's state to every collection, all or nothing (StoreWriteError after
    putting back what was written)."""
    previous: dict[str, tuple[Vector | None, dict[int, Payload]]] = {}
    done: list[str] = []
    model = ""
    try:
        for model, store in stores.items():
            previous[model] = (
                store.vectors([product_id]).get(product_id),
                store.payloads([product_id]),
            )
        for model, store in stores.items():
            vector = vectors.get(model)
            if payload is None or vector is None:
                store.delete([product_id])
            else:
                store.upsert([product_id], np.asarray(vector)[None, :], [payload])
            done.append(model)
    except Exception as exc:
        for undo in done:
            old_vector, old_payload = previous[undo]
            if old_vector is None:
                stores[undo].delete([product_id])
            else:
                stores[undo].upsert([product_id], old_vector[None, :], [old_payload[product_id]])
        raise StoreWriteError(
            f"the {model} collection refused product {product_id} ({exc}); the write was rolled "
            "back in every model and the catalogue: check GET /ready, then retry"
        ) from exc


class ProductWrites:
    """The write service the API hands its routes: refuses on read-only backends, runs every
    write on the model thread and turns refusals into request errors."""

    def __init__(
        self,
        catalogue: LiveCatalogue,
        execution: Execution,
        writable: bool,
        backend: str,
        has_key: bool,
    ) -> None:
        self.catalogue = catalogue
        self.metadata = Metadata(catalogue.replica.database.schema)
        self.writable = writable
        self._execution = execution
        self._backend = backend
        self._has_key = has_key

    @property
    def enabled(self) -> bool:
        """Whether this server takes writes: a writable backend and a write key configured."""
        return self.writable and self._has_key

    def exists(self, product_id: int) -> bool:
        """Whether the catalogue holds the product now."""
        return self.catalogue.replica.get(product_id) is not None

    async def create(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Add a product (409 if the id is taken)."""
        return await self._run(self.catalogue.create, product_id, fields, image)

    async def put(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Create or replace a product."""
        return await self._run(self.catalogue.put, product_id, fields, image)

    async def patch(self, product_id: int, fields: Mapping[str, Any]) -> WriteResult:
        """Change some metadata fields (404 if unknown)."""
        return await self._run(self.catalogue.patch, product_id, fields)

    async def delete(self, product_id: int) -> WriteResult:
        """Remove a product everywhere (404 if unknown)."""
        return await self._run(self.catalogue.delete, product_id)

    async def _run(self, write: Callable[..., WriteResult], *args: Any) -> WriteResult:
        if not self.writable:
            raise RequestError(
                501,
                f"the {self._backend} backend serves read-only builds; run the API with "
                "--backend qdrant-embedded or qdrant to take writes",
            )
        try:
            return await self._execution.on_model_thread(write, *args)
        except ProductExistsError as exc:
            raise RequestError(409, str(exc), "id") from exc
        except UnknownProductError as exc:
            raise RequestError(404, str(exc)) from exc
        except StoreWriteError as exc:
            raise RequestError(503, str(exc)) from exc
