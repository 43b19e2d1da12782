"""The live catalogue: product writes applied to the database and every model's collection.

A write is checked, embedded by every served model with the online encoders (the vectors the
batch path gives), committed to the catalogue database (the durable log), then upserted into
every collection. If a collection refuses it, the collections already written and the database
go back to the previous state and the error says so. A process killed between the commit and
the collections is repaired at the next start by `reconcile`, which also replays writes into a
collection built from an older catalogue version.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from catalogue.database import CatalogueDB, Record
from catalogue.records import ProductImage, image_fields
from embed.online import Encoders
from embed.registry import get_model
from embed.text import product_text
from lookalike.errors import LookalikeError
from store.indexing import PAYLOAD_FIELDS
from store.protocol import Payload, Vector, VectorStore

Stores = Callable[[], Mapping[str, VectorStore]]


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


def payload_of(record: Record) -> Payload:
    """The collection payload of a catalogue row."""
    return {field: record.get(field) for field in PAYLOAD_FIELDS}


class LiveCatalogue:
    """The catalogue as the API serves it: an in-memory copy of the database, plus writes."""

    def __init__(
        self,
        database: CatalogueDB,
        data_dir: Path,
        stores: Stores,
        encoders: Callable[[], Encoders],
    ) -> None:
        self.database = database
        self._data_dir = data_dir
        self._images = data_dir / "catalogue-images"
        self._stores = stores
        self._encoders = encoders
        self._write_lock = threading.RLock()
        self._records: dict[int, Record] = {}
        self._with_image: list[int] = []
        self.version = -1
        self.refresh()

    # Reading ---------------------------------------------------------------------------------

    def get(self, product_id: int) -> Record | None:
        """One product's catalogue row, or None."""
        return self._records.get(product_id)

    def ids_with_image(self) -> list[int]:
        """Ids of products with a usable image (a snapshot)."""
        return self._with_image

    def refresh(self) -> None:
        """Take in writes other processes made to the database since we last looked (only once
        their writer has written them to the collections too)."""
        if self.database.version == self.version:
            return
        with self._write_lock, self.database.publishing(exclusive=False):
            self._take_in_changes()

    def _take_in_changes(self) -> None:
        changes = self.database.changes_since(self.version)
        seen = max([self.version, *(c.version for c in changes)])
        if self.version < 0 or any(c.op == "fill" for c in changes):
            self._records = {int(r["id"]): r for r in self.database.records()}
        else:
            for change in changes:
                if change.id is not None:
                    self._remember(change.id, self.database.get(change.id))
        self._with_image = [i for i, r in self._records.items() if r["has_image"]]
        self.version = seen  # writes after `changes` was read come in the next refresh

    def _remember(self, product_id: int, record: Record | None) -> None:
        if record is None:
            self._records.pop(product_id, None)
        else:
            self._records[product_id] = record

    # Writing ---------------------------------------------------------------------------------

    def writing(self) -> threading.RLock:
        """The lock every write holds: hold it to keep writes out (e.g. while switching builds)."""
        return self._write_lock

    @contextmanager
    def _publishing(self) -> Iterator[None]:
        """Hold the write lock of this process and of every process (`CatalogueDB.publishing`)
        with the others' writes taken in, so a write builds on the latest state of a product."""
        with self._write_lock, self.database.publishing(exclusive=True):
            self._take_in_changes()
            yield

    def create(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Add a product; ProductExistsError if the id is taken."""
        with self._publishing():
            if product_id in self._records:
                raise ProductExistsError(
                    f"product {product_id} already exists; replace it with PUT /products/"
                    f"{product_id} or change fields with PATCH"
                )
            return self._put(product_id, fields, image)

    def put(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        """Create or replace a product (all metadata fields; no image: kept text-only)."""
        with self._publishing():
            return self._put(product_id, fields, image)

    def patch(self, product_id: int, fields: Mapping[str, Any]) -> WriteResult:
        """Change some metadata fields of an existing product; its image stays."""
        with self._publishing():
            old = self._require(product_id)
            return self._write(product_id, {**old, **fields})

    def delete(self, product_id: int) -> WriteResult:
        """Remove a product from the catalogue and every collection."""
        with self._publishing():
            self._require(product_id)
            return self._write(product_id, None)

    def _require(self, product_id: int) -> Record:
        record = self._records.get(product_id)
        if record is None:
            raise UnknownProductError(
                f"no product with id {product_id}; find ids with GET /products?q="
            )
        return record

    def _put(
        self, product_id: int, fields: Mapping[str, Any], image: ProductImage | None
    ) -> WriteResult:
        image_file = self._save_image(product_id, image) if image else None
        record = {"id": product_id, **fields, **image_fields(image, image_file)}
        return self._write(product_id, record)

    def _write(self, product_id: int, record: Record | None) -> WriteResult:
        """Commit and upsert everywhere, or roll back everywhere (`_publishing` is held)."""
        old = self._records.get(product_id)
        stores = dict(self._stores())
        vectors = {} if record is None else self.vectors(record, stores)
        if record is None:
            version = self.database.delete(product_id)
        else:
            version = self.database.put(record)
            record = {**record, "version": version}
        try:
            _apply(product_id, record, vectors, stores)
        except StoreWriteError:
            self._restore_database(product_id, old)
            self._take_in_changes()  # the write and its undo: two versions, as it was
            raise
        self._remember(product_id, record)
        self._with_image = [i for i, r in self._records.items() if r["has_image"]]
        # Only now, with every collection written, may answers be cached under the new version.
        self._advance(version)
        if old is not None and old.get("image_file") != (record or {}).get("image_file"):
            self._discard_image(old.get("image_file"))
        held = tuple(m for m, v in vectors.items() if v is not None)
        return WriteResult(record, held, version)

    def _restore_database(self, product_id: int, old: Record | None) -> None:
        """Undo a write in the database."""
        if old is None:
            self.database.delete(product_id)
        else:
            self.database.put(old)

    def _advance(self, version: int) -> None:
        """Our own write's version; after a gap (another process wrote meanwhile) `refresh`
        takes in the missing writes first."""
        if version == self.version + 1:
            self.version = version

    def _save_image(self, product_id: int, image: ProductImage) -> str:
        """Write the normalised PNG durably; its name changes with its content (a new ETag)."""
        self._images.mkdir(parents=True, exist_ok=True)
        path = self._images / f"{product_id}-{image.sha1[:12]}.png"
        with path.open("wb") as file:
            file.write(image.png)
            file.flush()
            os.fsync(file.fileno())
        return str(path.relative_to(self._data_dir))

    def _discard_image(self, image_file: str | None) -> None:
        """Remove a replaced live image (ingested images belong to the ingest build)."""
        if image_file and image_file.startswith(self._images.name + "/"):
            (self._data_dir / image_file).unlink(missing_ok=True)

    # Vectors ---------------------------------------------------------------------------------

    def image_path(self, record: Record) -> Path | None:
        """The normalised image file of a product, if it has one."""
        return self._data_dir / record["image_file"] if record.get("image_file") else None

    def vectors(
        self, record: Record, stores: Mapping[str, VectorStore]
    ) -> dict[str, Vector | None]:
        """Each model's vector of a product (None: the model cannot hold it, no image)."""
        encoders = self._encoders()
        path = self.image_path(record)
        image = None
        if record.get("has_image") and path is not None:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        text = product_text(record)
        out: dict[str, Vector | None] = {}
        for model in stores:
            kind = get_model(model).input
            if kind == "text":
                out[model] = encoders.encode_texts([text])[0]
            elif image is None:
                out[model] = None
            elif kind == "hybrid":
                category = str(record.get("articleType") or "")
                out[model] = encoders.encode_images(model, [image], [text], [category])[0]
            else:
                out[model] = encoders.encode_images(model, [image])[0]
        return out

    def reconcile(self, model: str, store: VectorStore, since_version: int) -> int:
        """Bring a collection up to the catalogue: replay every product written after
        `since_version` whose stored state differs. Returns how many were replayed."""
        with self._publishing():  # from the latest state, never over another process's write
            changed = sorted(
                {c.id for c in self.database.changes_since(since_version) if c.id is not None}
            )
            stored = store.payloads(changed)
            stale = []
            for product_id in changed:
                record = self._records.get(product_id)
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
                record = self._records.get(product_id)
                vectors = {} if record is None else self.vectors(record, {model: store})
                _apply(product_id, record, vectors, {model: store})
            return len(stale)


def _apply(
    product_id: int,
    record: Record | None,
    vectors: Mapping[str, Vector | None],
    stores: Mapping[str, VectorStore],
) -> None:
    """Write one product's state to every collection, all or nothing."""
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
            if record is None or vector is None:
                store.delete([product_id])
            else:
                store.upsert([product_id], np.asarray(vector)[None, :], [payload_of(record)])
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
