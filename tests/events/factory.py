"""Served lists and events to test with."""

from __future__ import annotations

import time
import uuid

import msgspec

from events.log import Served


def served(
    products: list[str],
    user_id: str | None = "shopper-1",
    experiment: str | None = None,
    arm: str | None = None,
    run_id: int | None = None,
    teams: list[str] | None = None,
) -> Served:
    """A served list of `products`, with an answer body shaped like the API's."""
    results = [
        {
            "product_id": p,
            "score": 1.0 - i / 10,
            "ann_score": 0.9 - i / 10,
            "category_similarity": 0.5,
            "category_match": i % 2 == 0,
            "recall_rank": i + 1,
            "name": f"product {p}",
        }
        for i, p in enumerate(products)
    ]
    return Served(
        ranking_id=uuid.uuid4().hex,
        served_at=time.time(),
        user_id=user_id,
        route="recommend",
        query="1163",
        model="clip",
        body=msgspec.json.encode(
            {"query_product_id": "1163", "results": results, "parameters": {"top_k": 2}}
        ),
        experiment=experiment,
        arm=arm,
        run_id=run_id,
        teams=teams,
    )
