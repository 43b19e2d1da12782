"""Rebuilding a collection replaces it atomically: readers never see a half-built one."""

from __future__ import annotations

import numpy as np
import pytest

from store import build_collection, collection_record
from store.builds import POINTER
from store.errors import InvalidVectorError
from tests.store import synthetic
from tests.store.conftest import StoreCase, synthetic_points


def build_folders(case: StoreCase) -> list[str]:
    """The build folders (local backends) or build collections (server) of the collection."""
    if case.client is not None:
        names = [c.name for c in case.client.get_collections().collections]
        return sorted(n for n in names if n.startswith(f"{case.collection}--"))
    root = (
        case.settings.qdrant_dir if case.backend == "qdrant-embedded" else case.settings.faiss_dir
    )
    return sorted(p.name for p in (root / case.collection / "builds").iterdir())


def test_a_failed_build_leaves_the_live_collection_alone(case: StoreCase) -> None:
    ids, vectors, payloads = synthetic_points(n=40)
    case.build(ids, vectors, payloads)
    before = build_folders(case)

    more_ids, more_vectors, more_payloads = synthetic_points(n=50, seed=1)
    with pytest.raises(InvalidVectorError, match="JSON"):
        case.build(more_ids, more_vectors, [*more_payloads[:-1], {"bad": object()}])
    with (
        pytest.raises(RuntimeError, match="interrupted"),
        build_collection(
            case.settings, case.collection, 16, backend=case.backend, client=case.client
        ) as store,
    ):
        store.upsert(more_ids, more_vectors, more_payloads)
        raise RuntimeError("interrupted")

    assert build_folders(case) == before
    store = case.open()
    assert store.count() == 40
    np.testing.assert_allclose(store.vectors([ids[3]])[ids[3]], vectors[3], atol=1e-6)
    store.close()


def test_rebuild_while_reading(case: StoreCase) -> None:
    old_ids, old_vectors, old_payloads = synthetic_points(n=30)
    case.build(old_ids, old_vectors, old_payloads)
    reader = case.open()

    new_ids = [5000 + i for i in range(20)]
    new_vectors = synthetic.unit_vectors(20, 16, seed=9)
    case.build(new_ids, new_vectors, synthetic.payloads(new_ids))

    fresh = case.open()
    assert fresh.count() == 20
    assert fresh.search(new_vectors[0], 1)[0].id == new_ids[0]
    if case.client is None:  # a local reader keeps the build it opened until it closes
        assert reader.count() == 30
        assert reader.search(old_vectors[0], 1)[0].id == old_ids[0]
        assert len(build_folders(case)) == 2
    else:  # a server reader follows the alias to the new build
        assert reader.count() == 20
    reader.close()
    fresh.close()
    assert len(build_folders(case)) == 1


def test_the_record_describes_the_live_build(case: StoreCase) -> None:
    assert (
        collection_record(case.settings, case.collection, backend=case.backend, client=case.client)
        is None
    )
    ids, vectors, payloads = synthetic_points(n=10)
    case.build(ids, vectors, payloads)
    record = collection_record(
        case.settings, case.collection, backend=case.backend, client=case.client
    )
    assert record is not None
    assert (record["collection"], record["backend"], record["dim"]) == (
        case.collection,
        case.backend,
        16,
    )
    assert record["options"] == case.options.describe(case.backend)


def test_the_pointer_names_the_live_build(case: StoreCase) -> None:
    if case.client is not None:
        pytest.skip("the server switches an alias instead")
    ids, vectors, payloads = synthetic_points(n=10)
    case.build(ids, vectors, payloads)
    root = (
        case.settings.qdrant_dir if case.backend == "qdrant-embedded" else case.settings.faiss_dir
    )
    assert [(root / case.collection / POINTER).read_text()] == build_folders(case)
