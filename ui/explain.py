"""'Why these results?': list-level metrics computed only from numbers the API returned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from api.schemas import Recommendation

# The attributes two results are compared on for the list's diversity.
DIVERSITY_ATTRIBUTES = ("articleType", "baseColour", "gender")


@dataclass(frozen=True)
class ListMetrics:
    """How on-category and how varied one result list is."""

    k: int
    matches: int
    mean_category_similarity: float
    diversity: float

    @property
    def match_rate(self) -> float:
        """Exact category match@k: the share of results with the query's article type."""
        return self.matches / self.k if self.k else 0.0


def list_metrics(results: Sequence[Recommendation]) -> ListMetrics:
    """Category match@k, mean category similarity@k and intra-list diversity of `results`."""
    k = len(results)
    return ListMetrics(
        k=k,
        matches=sum(r.category_match for r in results),
        mean_category_similarity=sum(r.category_similarity for r in results) / k if k else 0.0,
        diversity=attribute_diversity(results),
    )


def attribute_diversity(results: Sequence[Recommendation]) -> float:
    """Intra-list diversity: mean over result pairs of the share of attributes that differ."""
    pairs = list(combinations(results, 2))
    if not pairs:
        return 0.0
    differing = sum(
        getattr(a, name) != getattr(b, name) for a, b in pairs for name in DIVERSITY_ATTRIBUTES
    )
    return differing / (len(pairs) * len(DIVERSITY_ATTRIBUTES))
