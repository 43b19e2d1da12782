"""Filter semantics in one place: validation, Qdrant translation and numpy evaluation.

A `Filter` keeps points whose keyword fields equal the given values, whose `year` lies in the
inclusive range, and whose id is not excluded. A null or missing field never matches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from store.errors import InvalidFilterError
from store.protocol import KEYWORD_FIELDS, Filter, Payload

YEAR_FIELD = "year"

Condition = TypeVar("Condition")
QdrantFilter = TypeVar("QdrantFilter", covariant=True)


def effective(filter: Filter | None) -> Filter | None:
    """The filter if it restricts anything (None otherwise), after checking fields and values."""
    if filter is None:
        return None
    unknown = sorted(set(filter.match) - set(KEYWORD_FIELDS))
    if unknown:
        raise InvalidFilterError(
            f"cannot filter on {', '.join(unknown)}: filterable fields are "
            f"{', '.join(KEYWORD_FIELDS)} and the year range"
        )
    not_text = sorted(k for k, v in filter.match.items() if not isinstance(v, str))
    if not_text:
        raise InvalidFilterError(f"filter values must be strings, not for {', '.join(not_text)}")
    restricts = (
        filter.match or filter.year_min is not None or filter.year_max is not None
    ) or filter.exclude_ids
    return filter if restricts else None


class QdrantDialect(Protocol[Condition, QdrantFilter]):
    """How one Qdrant API (embedded Edge or the server client) spells filter conditions."""

    def keyword(self, field: str, value: str) -> Condition:
        """Exact match of a keyword field."""
        ...

    def year_range(self, low: int | None, high: int | None) -> Condition:
        """Inclusive range on `year`."""
        ...

    def has_ids(self, ids: list[int]) -> Condition:
        """Point id is one of `ids`."""
        ...

    def combine(self, must: list[Condition], must_not: list[Condition]) -> QdrantFilter:
        """All of `must` and none of `must_not`."""
        ...


def to_qdrant(filter: Filter, dialect: QdrantDialect[Condition, QdrantFilter]) -> QdrantFilter:
    """The Qdrant filter equivalent to `filter` in the given dialect."""
    must = [dialect.keyword(field, value) for field, value in sorted(filter.match.items())]
    if filter.year_min is not None or filter.year_max is not None:
        must.append(dialect.year_range(filter.year_min, filter.year_max))
    must_not = [dialect.has_ids(sorted(filter.exclude_ids))] if filter.exclude_ids else []
    return dialect.combine(must, must_not)


class PayloadColumns:
    """The filterable payload fields as numpy columns (row i = point i), for in-process filters."""

    def __init__(self, ids: npt.NDArray[np.int64], payloads: Sequence[Payload]) -> None:
        self._ids = ids
        self._codes: dict[str, tuple[dict[str, int], npt.NDArray[np.int32]]] = {}
        for field in KEYWORD_FIELDS:
            values = [p.get(field) for p in payloads]
            vocabulary = {v: i for i, v in enumerate(sorted({v for v in values if v is not None}))}
            codes = np.fromiter((vocabulary.get(v, -1) for v in values), np.int32, len(values))
            self._codes[field] = (vocabulary, codes)
        self._year = np.fromiter(
            (_as_year(p.get(YEAR_FIELD)) for p in payloads), np.float64, len(payloads)
        )

    def mask(self, filter: Filter) -> npt.NDArray[np.bool_]:
        """True for the rows the filter keeps."""
        keep = np.ones(len(self._ids), dtype=np.bool_)
        for field, value in filter.match.items():
            vocabulary, codes = self._codes[field]
            keep &= codes == vocabulary.get(value, -2)
        if filter.year_min is not None:
            keep &= self._year >= filter.year_min
        if filter.year_max is not None:
            keep &= self._year <= filter.year_max
        if filter.exclude_ids:
            keep &= ~np.isin(self._ids, np.fromiter(filter.exclude_ids, np.int64))
        return keep


def _as_year(value: float | None) -> float:
    return math.nan if value is None else float(value)
