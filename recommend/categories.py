"""Soft category similarity: cosine between the text encoder's vectors of two categories (the
values of the catalogue schema's `category` field)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.errors import LookalikeError

Vectors = npt.NDArray[np.float32]
# Encodes category names to unit vectors in the same space (the category prompt applied).
CategoryEncoder = Callable[[Sequence[str]], Vectors]


class CategorySimilarity:
    """A precomputed category × category cosine matrix; new categories are encoded on first use.
    `field` is the payload field that holds a product's category."""

    def __init__(
        self,
        names: list[str],
        vectors: Vectors,
        encode: CategoryEncoder | None = None,
        *,
        field: str,
    ) -> None:
        self.field = field
        self.index = {name: i for i, name in enumerate(names)}
        self.names = list(names)
        self.unit = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        self.matrix = np.clip(self.unit @ self.unit.T, -1.0, 1.0).astype(np.float32)
        np.fill_diagonal(self.matrix, 1.0)
        self._encode = encode
        self._new: dict[str, Vectors] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, folder: Path, field: str, encode: CategoryEncoder | None = None
    ) -> CategorySimilarity:
        """Read `names.json` + `vectors.npy` written by `lookalike embed`."""
        return cls(*read_categories(folder), encode, field=field)

    def nearest_target(self, targets: Sequence[str | None], category: str | None) -> float:
        """The category's similarity to the nearest of `targets` (0 without targets)."""
        return max((self.similarity(t, category) for t in targets), default=0.0)

    def nearest_targets(
        self, targets: Sequence[str | None], categories: Sequence[str | None]
    ) -> npt.NDArray[np.float64]:
        """`nearest_target` of each category."""
        return np.array([self.nearest_target(targets, c) for c in categories], dtype=np.float64)

    def similarity(self, a: str | None, b: str | None) -> float:
        """Cosine between two categories; 1 when equal, 0 when either is missing."""
        if a is not None and a == b:
            return 1.0
        if not a or not b:
            return 0.0
        i, j = self.index.get(a), self.index.get(b)
        if i is not None and j is not None:
            return float(self.matrix[i, j])
        first, second = self.vector(a), self.vector(b)
        if first is None or second is None:
            return 0.0
        return float(np.clip(first @ second, -1.0, 1.0))

    def vector(self, name: str) -> Vectors | None:
        """The unit vector of a category; a new one is encoded from its name (None without
        an encoder)."""
        i = self.index.get(name)
        if i is not None:
            return self.unit[i]
        if self._encode is None:
            return None
        with self._lock:
            if name not in self._new:
                try:
                    self._new[name] = self._encode([name])[0]
                except LookalikeError:
                    return None  # no text encoder here: the category is simply unknown (0)
            return self._new[name]

    def nearest(self, name: str, k: int = 3) -> list[tuple[str, float]]:
        """The `k` known categories most similar to `name` (itself excluded)."""
        vector = self.vector(name)
        if vector is None:
            return []
        scores = self.unit @ vector
        order = [int(i) for i in np.argsort(-scores) if self.names[int(i)] != name]
        return [(self.names[i], float(scores[i])) for i in order[:k]]


def read_categories(folder: Path) -> tuple[list[str], Vectors]:
    """The category names and their vectors written by `lookalike embed`."""
    try:
        names = json.loads((folder / "names.json").read_text())
        vectors = np.load(folder / "vectors.npy")
    except OSError as exc:
        raise LookalikeError(
            f"{folder}: category vectors missing ({exc}); run `lookalike embed`"
        ) from exc
    return list(names), vectors
