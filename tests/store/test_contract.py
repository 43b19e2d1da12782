"""The contract every backend fulfils, run against each of them (see conftest.CASES)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from store import Filter, Range, VectorStore
from tests.store import synthetic
from tests.store.conftest import Loaded, StoreCase, synthetic_points

QUERIES = 8


def ids_of(hits: list) -> list[int]:
    return [h.id for h in hits]


def test_count_and_info(loaded: Loaded) -> None:
    info = loaded.store.info()
    assert loaded.store.count() == len(loaded.ids)
    assert (info.name, info.count, info.dim) == (loaded.case.collection, len(loaded.ids), 16)
    assert info.backend == loaded.case.backend


def test_search_order_matches_exact_cosine(loaded: Loaded) -> None:
    for row in range(QUERIES):
        query = loaded.vectors[row * 7]
        hits = loaded.store.search(query, 10)
        expected = synthetic.exact_top_k(loaded.ids, loaded.vectors, loaded.payloads, query, 10)
        assert ids_of(hits) == expected
        stored = dict(zip(loaded.ids, loaded.vectors, strict=True))
        for hit in hits:
            assert hit.score == pytest.approx(float(stored[hit.id] @ query), abs=1e-5)
            assert hit.payload == loaded.payloads[loaded.ids.index(hit.id)]


def test_search_without_payloads(loaded: Loaded) -> None:
    query = loaded.vectors[3]
    plain = loaded.store.search(query, 10, Filter(exclude_ids=frozenset({loaded.ids[3]})))
    lean = loaded.store.search(
        query, 10, Filter(exclude_ids=frozenset({loaded.ids[3]})), with_payload=False
    )
    assert ids_of(lean) == ids_of(plain)
    assert [h.score for h in lean] == pytest.approx([h.score for h in plain], abs=1e-6)
    assert all(h.payload == {} for h in lean)
    assert all(h.payload == {} for h in loaded.store.search_batch(query[None], 3, None, False)[0])


def test_scores_are_cosines_for_a_query_of_any_length(loaded: Loaded) -> None:
    query = loaded.vectors[3]
    scaled = loaded.store.search(3.5 * query, 5)
    assert ids_of(scaled) == ids_of(loaded.store.search(query, 5))
    assert scaled[0].id == loaded.ids[3]
    assert scaled[0].score == pytest.approx(1.0, abs=1e-5)


FILTERS = {
    "article type": Filter(match={"articleType": "Watches"}),
    "gender and season": Filter(match={"gender": "Women", "season": "Summer"}),
    "every keyword": Filter(
        match={
            "articleType": "Tshirts",
            "masterCategory": "Apparel",
            "subCategory": "Topwear",
            "gender": "Men",
        }
    ),
    "usage (nulls never match)": Filter(match={"usage": "Formal"}),
    "colour (nulls never match)": Filter(match={"baseColour": "Blue"}),
    "year range": Filter(ranges={"year": Range(2010, 2012)}),
    "year from": Filter(ranges={"year": Range(low=2016)}),
    "year until": Filter(ranges={"year": Range(high=2009)}),
    "exclude ids": Filter(exclude_ids=frozenset({1000 + 3 * 21, 1000 + 3 * 50})),
    "combined": Filter(
        match={"articleType": "Shirts"},
        ranges={"year": Range(low=2009)},
        exclude_ids=frozenset({1000 + 3 * 21}),
    ),
    "unknown value": Filter(match={"articleType": "Spaceships"}),
    "empty range": Filter(ranges={"year": Range(2015, 2011)}),
}


@pytest.mark.parametrize("filter", FILTERS.values(), ids=FILTERS.keys())
def test_filters(loaded: Loaded, filter: Filter) -> None:
    for row in (21, 50, 99):
        query = loaded.vectors[row]
        hits = loaded.store.search(query, 10, filter)
        expected = synthetic.exact_top_k(
            loaded.ids, loaded.vectors, loaded.payloads, query, 10, filter
        )
        assert ids_of(hits) == expected
        assert all(synthetic.passes(h.payload, filter) for h in hits)


def test_excluding_the_query_product(loaded: Loaded) -> None:
    query_id = loaded.ids[42]
    hits = loaded.store.search(loaded.vectors[42], 5, Filter(exclude_ids=frozenset({query_id})))
    assert query_id not in ids_of(hits)
    assert len(hits) == 5


def test_empty_filter_is_no_filter(loaded: Loaded) -> None:
    query = loaded.vectors[5]
    assert ids_of(loaded.store.search(query, 10, Filter())) == ids_of(
        loaded.store.search(query, 10)
    )


def test_a_field_without_an_index_still_filters(loaded: Loaded) -> None:
    """Which fields a catalogue filters on is its schema's business (checked by the API);
    the store filters on any payload field, indexed or not."""
    hits = loaded.store.search(loaded.vectors[0], 5, Filter(match={"name": "Product 1000"}))
    assert ids_of(hits) == [1000]


def test_limit_beyond_the_collection_returns_everything(loaded: Loaded) -> None:
    hits = loaded.store.search(loaded.vectors[0], 1000)
    assert sorted(ids_of(hits)) == sorted(loaded.ids)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_batch_equals_single_searches(loaded: Loaded) -> None:
    queries = loaded.vectors[[1, 2, 3, 40]]
    filter = Filter(match={"gender": "Men"}, ranges={"year": Range(low=2010)})
    batch = loaded.store.search_batch(queries, 7, filter)
    assert [ids_of(hits) for hits in batch] == [
        ids_of(loaded.store.search(q, 7, filter)) for q in queries
    ]
    assert loaded.store.search_batch(np.zeros((0, 16), np.float32), 3) == []


def test_vectors_round_trip(loaded: Loaded) -> None:
    wanted = [loaded.ids[0], loaded.ids[17], 999_999]
    found = loaded.store.vectors(wanted)
    assert set(found) == {loaded.ids[0], loaded.ids[17]}
    for position, i in ((0, loaded.ids[0]), (17, loaded.ids[17])):
        assert found[i].dtype == np.float32
        np.testing.assert_allclose(found[i], loaded.vectors[position], atol=1e-6)


def test_payloads_round_trip_with_nulls(loaded: Loaded) -> None:
    with_nulls = [i for i, p in zip(loaded.ids, loaded.payloads, strict=True) if None in p.values()]
    wanted = [*with_nulls[:3], loaded.ids[1], 5]
    found = loaded.store.payloads(wanted)
    assert set(found) == set(wanted) - {5}
    for i in found:
        assert found[i] == loaded.payloads[loaded.ids.index(i)]


def test_concurrent_reads(loaded: Loaded) -> None:
    errors: list[BaseException] = []
    expected = ids_of(loaded.store.search(loaded.vectors[9], 10))

    def read() -> None:
        try:
            for _ in range(20):
                assert ids_of(loaded.store.search(loaded.vectors[9], 10)) == expected
                loaded.store.payloads(loaded.ids[:5])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_the_same_collection_opened_twice(loaded: Loaded) -> None:
    """Embedded Qdrant shares one shard per folder: closing one handle keeps the other working."""
    second = loaded.case.open()
    assert second.count() == len(loaded.ids)
    second.close()
    second.close()  # idempotent
    assert loaded.store.count() == len(loaded.ids)


# Tests that change a collection get their own.


def build(case: StoreCase) -> tuple[VectorStore, list[int], np.ndarray, list]:
    ids, vectors, payloads = synthetic_points(n=60)
    case.build(ids, vectors, payloads)
    return case.open(), ids, vectors, payloads


def test_upsert_replaces_existing_points(case: StoreCase) -> None:
    store, ids, _, payloads = build(case)
    replacement = synthetic.unit_vectors(1, 16, seed=7)
    changed = {**payloads[4], "name": "Renamed", "year": None}
    store.upsert([ids[4]], replacement, [changed])
    assert store.count() == len(ids)
    np.testing.assert_allclose(store.vectors([ids[4]])[ids[4]], replacement[0], atol=1e-6)
    assert store.payloads([ids[4]])[ids[4]] == changed
    assert store.search(replacement[0], 1)[0].id == ids[4]
    assert store.search(replacement[0], 60, Filter(ranges={"year": Range(low=1900)})) != []
    assert ids[4] not in ids_of(
        store.search(replacement[0], 60, Filter(ranges={"year": Range(low=1900)}))
    )
    store.close()


def test_delete(case: StoreCase) -> None:
    store, ids, vectors, _ = build(case)
    store.delete([ids[0], ids[1], 424_242])
    assert store.count() == len(ids) - 2
    assert store.vectors([ids[0], ids[2]]).keys() == {ids[2]}
    assert store.payloads([ids[1]]) == {}
    assert {ids[0], ids[1]}.isdisjoint(ids_of(store.search(vectors[0], 60)))
    store.delete([])
    store.close()


def test_reopen_keeps_changes(case: StoreCase) -> None:
    """Closing and reopening (from disk for the local backends) keeps upserts and deletes."""
    store, ids, vectors, payloads = build(case)
    extra = synthetic.unit_vectors(2, 16, seed=3)
    store.upsert([5, 6], extra, synthetic.payloads([5, 6]))
    store.delete([ids[10]])
    store.close()

    reopened = case.open()
    assert reopened.count() == len(ids) + 1
    assert reopened.search(extra[1], 1)[0].id == 6
    assert reopened.vectors([ids[10]]) == {}
    np.testing.assert_allclose(reopened.vectors([ids[11]])[ids[11]], vectors[11], atol=1e-6)
    assert reopened.payloads([ids[12]])[ids[12]] == payloads[12]
    reopened.close()
