"""Errors of the embed stage that a user can fix."""

from __future__ import annotations

from lookalike.errors import LookalikeError


class UnknownModelError(LookalikeError):
    """A model name that is not in the registry."""


class WeightsMissingError(LookalikeError):
    """No weights could be found for a network."""


class WeightsCorruptError(LookalikeError):
    """A weights file exists but cannot be used."""


class CatalogNotReadyError(LookalikeError):
    """The ingested catalogue (or the saved split) is missing."""
