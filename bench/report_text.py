"""The text-search section of the report."""

from __future__ import annotations

from typing import Any

from bench import reference as ref
from bench.markdown import ci, table, verdict


def text_section(doc: dict[str, Any]) -> list[str]:
    """hit@5, top-1 and any-fit@5 of the committed shopping phrases, per text-capable model."""
    models = doc["models"]
    rows = [
        [model, ci(r["hit_at_5"]), ci(r["top_1"]), ci(r["any_at_5"])] for model, r in models.items()
    ]
    lines = [
        "## Text search",
        "",
        f"{doc['queries']} natural shopping phrases (`bench/{doc['query_set']}`, written before "
        "any result was seen, never tuned on), each with the articleTypes that satisfy it; exact "
        "top-5 over the whole catalogue (λ = 1). hit@5 = share of the 5 results that fit; top-1 = "
        "share of phrases whose first result fits; any@5 = share with at least one fit. "
        "95 % bootstrap intervals.",
        "",
        *table(("model", "hit@5", "top-1", "any@5"), rows),
        "",
    ]
    if "clip" in models:
        hit = models["clip"]["hit_at_5"]["mean"]
        lines += [
            f"CLIP text→image hit@5 {hit:.3f} (goal ≥ {ref.GOAL_TEXT_HIT_AT_5}): "
            f"{verdict(hit >= ref.GOAL_TEXT_HIT_AT_5)}",
            "",
        ]
    neighbours = doc.get("category_neighbours", {})
    if neighbours:
        rows = [
            [name, ", ".join(f"{other} ({score:.2f})" for other, score in nearest)]
            for name, nearest in neighbours.items()
        ]
        lines += [
            "Soft category similarity (the explanation beside every result): the 3 nearest "
            "articleTypes of the 10 most common ones.",
            "",
            *table(("articleType", "nearest (cosine)"), rows),
            "",
        ]
    return lines
