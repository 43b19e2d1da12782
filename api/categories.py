"""Soft category similarity: cosine between CLIP text vectors of two articleTypes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lookalike.errors import LookalikeError


class CategorySimilarity:
    """A precomputed articleType × articleType cosine matrix."""

    def __init__(self, names: list[str], vectors: npt.NDArray[np.float32]) -> None:
        self.index = {name: i for i, name in enumerate(names)}
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.matrix = np.clip(unit @ unit.T, -1.0, 1.0).astype(np.float32)
        np.fill_diagonal(self.matrix, 1.0)

    @classmethod
    def load(cls, folder: Path) -> CategorySimilarity:
        """Read `names.json` + `vectors.npy` written by `lookalike embed`."""
        try:
            names = json.loads((folder / "names.json").read_text())
            vectors = np.load(folder / "vectors.npy")
        except OSError as exc:
            raise LookalikeError(
                f"{folder}: category vectors missing ({exc}); run `lookalike embed`"
            ) from exc
        return cls(list(names), vectors)

    def similarity(self, a: str | None, b: str | None) -> float:
        """Cosine between two articleTypes; 1 when equal, 0 when either is unknown."""
        if a is not None and a == b:
            return 1.0
        i, j = self.index.get(a or ""), self.index.get(b or "")
        if i is None or j is None:
            return 0.0
        return float(self.matrix[i, j])
