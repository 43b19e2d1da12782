"""Filter semantics in one place: validation, Qdrant translation and numpy evaluation.

A `Filter` keeps points whose keyword fields equal the given values, whose numeric fields lie
in their inclusive ranges, and whose id is not excluded. A null or missing field never matches.
Which fields a catalogue filters on is its schema's business (`service.filters`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from store.errors import InvalidFilterError
from store.protocol import Filter, Payload, Range

Condition = TypeVar("Condition")
QdrantFilter = TypeVar("QdrantFilter", covariant=True)


def effective(filter: Filter | None) -> Filter | None:
    """The filter if it restricts anything (None otherwise), after checking fields and values."""
    if filter is None:
        return None
    not_text = sorted(k for k, v in filter.match.items() if not isinstance(v, str))
    if not_text:
        raise InvalidFilterError(f"filter values must be strings, not for {', '.join(not_text)}")
    not_number = sorted(
        name
        for name, r in filter.ranges.items()
        for bound in (r.low, r.high)
        if bound is not None and not (isinstance(bound, (int, float)) and math.isfinite(bound))
    )
    if not_number:
        raise InvalidFilterError(f"range bounds must be finite numbers: {', '.join(not_number)}")
    ranges = {k: r for k, r in filter.ranges.items() if r.low is not None or r.high is not None}
    if ranges != dict(filter.ranges):
        filter = Filter(filter.match, ranges, filter.exclude_ids)
    return filter if filter.match or filter.ranges or filter.exclude_ids else None


class QdrantDialect(Protocol[Condition, QdrantFilter]):
    """How one Qdrant API (embedded Edge or the server client) spells filter conditions."""

    def keyword(self, field: str, value: str) -> Condition:
        """Exact match of a keyword field."""
        ...

    def range(self, field: str, low: float | None, high: float | None) -> Condition:
        """Inclusive range on a numeric field."""
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
    for field, bounds in sorted(filter.ranges.items()):
        must.append(dialect.range(field, bounds.low, bounds.high))
    must_not = [dialect.has_ids(sorted(filter.exclude_ids))] if filter.exclude_ids else []
    return dialect.combine(must, must_not)


class PayloadColumns:
    """Payload fields as numpy columns (row i = point i), built on first use, for in-process
    filters."""

    def __init__(self, ids: npt.NDArray[np.int64], payloads: Sequence[Payload]) -> None:
        self._ids = ids
        self._payloads = payloads
        self._codes: dict[str, tuple[dict[str, int], npt.NDArray[np.int32]]] = {}
        self._numbers: dict[str, npt.NDArray[np.float64]] = {}

    def _keyword(self, field: str) -> tuple[dict[str, int], npt.NDArray[np.int32]]:
        if field not in self._codes:
            values = [p.get(field) for p in self._payloads]
            vocabulary = {v: i for i, v in enumerate(sorted({v for v in values if v is not None}))}
            codes = np.fromiter((vocabulary.get(v, -1) for v in values), np.int32, len(values))
            self._codes[field] = (vocabulary, codes)
        return self._codes[field]

    def _number(self, field: str) -> npt.NDArray[np.float64]:
        if field not in self._numbers:
            values = (_as_number(p.get(field)) for p in self._payloads)
            self._numbers[field] = np.fromiter(values, np.float64, len(self._payloads))
        return self._numbers[field]

    def mask(self, filter: Filter) -> npt.NDArray[np.bool_]:
        """True for the rows the filter keeps."""
        keep = np.ones(len(self._ids), dtype=np.bool_)
        for field, value in filter.match.items():
            vocabulary, codes = self._keyword(field)
            keep &= codes == vocabulary.get(value, -2)
        for field, bounds in filter.ranges.items():
            keep &= _within(self._number(field), bounds)
        if filter.exclude_ids:
            keep &= ~np.isin(self._ids, np.fromiter(filter.exclude_ids, np.int64))
        return keep


def _within(values: npt.NDArray[np.float64], bounds: Range) -> npt.NDArray[np.bool_]:
    keep = ~np.isnan(values)
    if bounds.low is not None:
        keep &= values >= bounds.low
    if bounds.high is not None:
        keep &= values <= bounds.high
    return keep


def _as_number(value: float | None) -> float:
    return math.nan if value is None else float(value)
