"""The filters a catalogue offers, named by its schema: every facet as an exact match, every
numeric field as an inclusive `<name>_min` / `<name>_max` range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.schema import CatalogueSchema
from service.errors import RequestError
from store.protocol import Range

MAX_VALUE = 100  # characters of a filter value
BOUNDS = ("_min", "_max")


@dataclass(frozen=True)
class Filters:
    """Checked filters: exact matches by facet and ranges by numeric field."""

    match: dict[str, str]
    ranges: dict[str, Range]


class CatalogueFilters:
    """Filter names and checks for one catalogue schema."""

    def __init__(self, schema: CatalogueSchema) -> None:
        self.facets = schema.facets
        self.numeric = schema.numeric

    @property
    def names(self) -> tuple[str, ...]:
        """Every filter name a request may use."""
        return (*self.facets, *(f"{n}{b}" for n in self.numeric for b in BOUNDS))

    def checked(self, given: Mapping[str, object]) -> Filters:
        """The filters in a request (empty values left out), or a 400 naming the valid ones."""
        unknown = sorted(set(given) - set(self.names))
        if unknown:
            raise RequestError(
                400,
                f"unknown filter(s) {', '.join(unknown)}; this catalogue filters on "
                f"{', '.join(self.names)}",
                unknown[0],
            )
        match: dict[str, str] = {}
        bounds: dict[str, dict[str, float]] = {}
        for name, value in given.items():
            if value is None or value == "":
                continue
            if name in self.facets:
                match[name] = self._text(name, value)
            else:
                bounds.setdefault(name[:-4], {})[name[-4:]] = self._number(name, value)
        ranges = {n: Range(b.get("_min"), b.get("_max")) for n, b in bounds.items()}
        return Filters(match, ranges)

    @staticmethod
    def _text(name: str, value: object) -> str:
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise RequestError(400, f"{name} must be a string of at most {MAX_VALUE}", name)
        return value

    @staticmethod
    def _number(name: str, value: object) -> float:
        try:
            number = float(value) if isinstance(value, (str, int, float)) else math.nan
        except ValueError:
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            raise RequestError(400, f"{name} must be a number, got {value!r}", name)
        return number


def described(match: Mapping[str, str], ranges: Mapping[str, Range]) -> dict[str, str | float]:
    """Filters as an answer's parameters show them (ranges as `<name>_min` / `<name>_max`)."""
    shown: dict[str, str | float] = dict(match)
    for name, bounds in ranges.items():
        for suffix, bound in zip(BOUNDS, (bounds.low, bounds.high), strict=True):
            if bound is not None:
                shown[f"{name}{suffix}"] = bound
    return shown
