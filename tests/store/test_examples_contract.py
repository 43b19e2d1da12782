"""Every backend recalls from several examples what Qdrant's recommend query returns (its
local mode, qdrant-client `:memory:`, is the reference), filtered or not."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient

from recommend.examples import STRATEGIES, Examples, Strategy, recall_examples
from store import Filter
from tests.qdrant_reference import qdrant_recommend, reference_collection
from tests.store.conftest import Loaded

POSITIVE, NEGATIVE = (0, 5, 9), (40, 77)


@pytest.fixture(scope="module")
def reference(loaded: Loaded) -> QdrantClient:
    """The same points in qdrant-client's local mode."""
    return reference_collection(loaded.ids, loaded.vectors, loaded.payloads)


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
    theirs = qdrant_recommend(reference, positive, negative, strategy, 15, match)
    assert [h.id for h in ours] == [i for i, _ in theirs]
    assert [h.score for h in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)
