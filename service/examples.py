"""The examples of `POST /recommend` checked before any work: ids, counts, strategy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from core.ids import parse_product_id
from recommend.examples import Strategy
from service.errors import RequestError, not_found
from service.schemas import ExamplesRequest

MAX_EXAMPLES = 20


@dataclass(frozen=True)
class ExampleIds:
    """Checked example ids (catalogue ids, in the order given), the strategy, the positives'
    weights (average_vector; none: equal) and products to leave out beside the examples."""

    positive: tuple[int, ...]
    negative: tuple[int, ...]
    strategy: Strategy
    weights: tuple[float, ...] = ()
    exclude: frozenset[int] = frozenset()

    @property
    def label(self) -> str:
        """The query as a list log shows it: `+1,+2,-3`."""
        return ",".join([f"+{i}" for i in self.positive] + [f"-{i}" for i in self.negative])


def checked_examples(request: ExamplesRequest) -> ExampleIds:
    """The request's examples, or a 400 / 404 naming the id or field at fault."""
    positive = _ids(request.positive, "positive")
    negative = _ids(request.negative, "negative")
    if not positive and not (request.strategy == "best_score" and negative):
        raise RequestError(
            400,
            "give 1–20 positive examples (best_score also takes negatives alone)",
            "positive",
        )
    both = sorted(set(positive) & set(negative))
    if both:
        raise RequestError(400, f"product {both[0]} is both a positive and a negative", "negative")
    return ExampleIds(positive, negative, request.strategy)


def _ids(values: Sequence[str | int], field: str) -> tuple[int, ...]:
    """Catalogue ids of one example list: 404 for a malformed id, 400 for a repeated one."""
    if len(values) > MAX_EXAMPLES:
        raise RequestError(400, f"at most {MAX_EXAMPLES} {field} examples", field)
    ids = []
    for value in values:
        parsed = parse_product_id(str(value))
        if parsed is None:
            raise not_found(value)
        ids.append(parsed)
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise RequestError(400, f"product {repeated[0]} is given twice in {field}", field)
    return tuple(ids)
