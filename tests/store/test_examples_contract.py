"""Every backend recalls from several examples what Qdrant's recommend query returns (its
local mode, qdrant-client `:memory:`, is the reference), filtered or not."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from recommend.examples import STRATEGIES, Examples, Strategy, recall_examples
from store import Filter
from tests.store.conftest import Loaded

POSITIVE, NEGATIVE = (0, 5, 9), (40, 77)


@pytest.fixture(scope="module")
def reference(loaded: Loaded) -> QdrantClient:
    """The same points in qdrant-client's local mode."""
    client = QdrantClient(":memory:")
    dim = loaded.vectors.shape[1]
    client.create_collection(
        "ref", vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
    )
    client.upsert(
        "ref",
        [
            models.PointStruct(id=i, vector=v.tolist(), payload=p)
            for i, v, p in zip(loaded.ids, loaded.vectors, loaded.payloads, strict=True)
        ],
    )
    return client


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("gender", [None, "Women"])
def test_every_backend_recommends_what_qdrant_does(
    loaded: Loaded, reference: QdrantClient, strategy: Strategy, gender: str | None
) -> None:
    positive = [loaded.ids[i] for i in POSITIVE]
    negative = [loaded.ids[i] for i in NEGATIVE]
    rows = {i: v for i, v in zip(loaded.ids, loaded.vectors, strict=True)}
    examples = Examples(
        tuple(positive),
        np.stack([rows[i] for i in positive]),
        tuple(negative),
        np.stack([rows[i] for i in negative]),
        strategy,
    )
    match = {"gender": gender} if gender else {}
    ours = recall_examples(
        loaded.store, examples, 15, Filter(match, exclude_ids=examples.ids), False
    )
    condition = models.FieldCondition(key="gender", match=models.MatchValue(value=gender or ""))
    theirs = reference.query_points(
        "ref",
        query=models.RecommendQuery(
            recommend=models.RecommendInput(positive=positive, negative=negative, strategy=strategy)
        ),
        query_filter=models.Filter(must=[condition]) if gender else None,
        limit=15,
    ).points
    assert [h.id for h in ours] == [p.id for p in theirs]
    assert [h.score for h in ours] == pytest.approx([p.score for p in theirs], abs=1e-5)
