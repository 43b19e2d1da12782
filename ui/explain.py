"""'Why these results?': list-level metrics computed only from numbers the API returned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.schemas import Recommendation


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


def list_metrics(results: Sequence[Recommendation], diversity: float) -> ListMetrics:
    """Category match@k and mean category similarity@k of `results`, with the API's diversity."""
    k = len(results)
    return ListMetrics(
        k=k,
        matches=sum(r.category_match for r in results),
        mean_category_similarity=sum(r.category_similarity for r in results) / k if k else 0.0,
        diversity=diversity,
    )
