"""The write path against in-memory collections: all or nothing, without ingest or models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from catalogue.database import CatalogueDB
from catalogue.images import ProductImages
from catalogue.records import image_fields
from service.replica import CatalogueReplica
from service.writes import LiveCatalogue, StoreWriteError
from store.memory import MemoryStore
from store.protocol import Payload, Vector

FIELDS = {
    "name": "Blue shirt",
    "gender": "Men",
    "masterCategory": "Apparel",
    "subCategory": "Topwear",
    "articleType": "Shirts",
    "baseColour": "Blue",
    "season": "Summer",
    "year": 2024,
    "usage": "Casual",
}


class TextEncoders:
    """Stands in for `Encoders`: every model reads the text, as a 2-d vector of its length."""

    def encode_product(self, model: str, image: object, text: str, category: str) -> Vector:
        vector = np.array([len(text), 1.0], np.float32)
        return vector / np.linalg.norm(vector)


class Encoding:
    encoders = TextEncoders()


class RefusingStore(MemoryStore):
    """A collection that refuses every upsert (a full disk, a server gone)."""

    def upsert(self, ids: Any, vectors: Vector, payloads: Any) -> None:
        raise OSError("disk full")


@pytest.fixture
def catalogue(tmp_path: Path) -> LiveCatalogue:
    database = CatalogueDB(tmp_path / "catalogue.sqlite", create=True)
    database.put({"id": 1, **FIELDS, **image_fields(None, None)})  # version 1, as after an ingest
    replica = CatalogueReplica(database)
    live = LiveCatalogue(replica, ProductImages(tmp_path), cast(Any, Encoding()))
    live.stores["a"] = MemoryStore("a", 2)
    live.stores["b"] = MemoryStore("b", 2)
    return live


def _state(store: MemoryStore, product_id: int) -> tuple[list[float] | None, Payload | None]:
    vector = store.vectors([product_id]).get(product_id)
    return (None if vector is None else vector.tolist()), store.payloads([product_id]).get(
        product_id
    )


def test_a_write_reaches_the_database_and_every_collection(catalogue: LiveCatalogue) -> None:
    result = catalogue.put(7, FIELDS, None)
    assert result.models == ("a", "b") and result.version == catalogue.replica.version == 2
    assert catalogue.database.get(7) is not None and catalogue.replica.get(7) is not None
    for store in catalogue.stores.values():
        assert store.payloads([7])[7]["articleType"] == "Shirts"


def test_a_refused_collection_rolls_back_every_collection_and_the_database(
    catalogue: LiveCatalogue,
) -> None:
    catalogue.put(7, FIELDS, None)
    a = cast(MemoryStore, catalogue.stores["a"])
    before = _state(a, 7)
    catalogue.stores["b"] = RefusingStore("b", 2)
    with pytest.raises(StoreWriteError, match="the b collection refused product 7"):
        catalogue.patch(7, {"name": "A much longer name that moves the vector"})
    # The write and its undo are two versions; the replica has taken both in.
    assert catalogue.replica.version == catalogue.database.version == 4
    assert _state(a, 7) == before
    for record in (catalogue.database.get(7), catalogue.replica.get(7)):
        assert record is not None and record["name"] == "Blue shirt"


def test_a_refused_create_leaves_no_trace(catalogue: LiveCatalogue) -> None:
    catalogue.stores["b"] = RefusingStore("b", 2)
    with pytest.raises(StoreWriteError):
        catalogue.create(8, FIELDS, None)
    assert catalogue.replica.get(8) is None and catalogue.database.get(8) is None
    assert _state(cast(MemoryStore, catalogue.stores["a"]), 8) == (None, None)


def test_reconcile_replays_writes_a_collection_missed(catalogue: LiveCatalogue) -> None:
    catalogue.put(7, FIELDS, None)
    catalogue.put(9, FIELDS, None)
    fresh = MemoryStore("a", 2)  # a build made before both writes
    assert catalogue.reconcile("clip_text", fresh, since_version=0) == 3  # with product 1
    assert fresh.count() == 3 and catalogue.reconcile("clip_text", fresh, since_version=0) == 0
