"""Errors of the embed stage that a user can fix."""

from __future__ import annotations

from core.errors import LookalikeError, UnknownModelError

__all__ = [
    "CatalogNotReadyError",
    "UnknownModelError",
    "WeightsCorruptError",
    "WeightsMissingError",
]


class WeightsMissingError(LookalikeError):
    """No weights could be found for a network."""


class WeightsCorruptError(LookalikeError):
    """A weights file exists but cannot be used."""


class CatalogNotReadyError(LookalikeError):
    """The ingested catalogue (or the saved split) is missing."""
