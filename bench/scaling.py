"""Collections of any size from the real vectors: a subset, or the real set plus perturbed copies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from store.options import HnswParams
from store.protocol import Payload

REAL = "real"
NOISE_NORM = (
    0.3  # expected length of the noise added to a unit vector (cosine ≈ 0.96 to its source)
)
LARGE = 100_000  # from here on, HNSW construction is made cheaper and fewer indexes are built
HUGE = 500_000
_CHUNK = 65_536
_SUFFIXES = {"k": 1_000, "m": 1_000_000}

Ids = npt.NDArray[np.int64]
Vectors = npt.NDArray[np.float32]


def parse_size(text: str) -> int | None:
    """`real` (None: the collection as embedded), or a count such as 10000, 10k, 1M."""
    lowered = text.strip().lower()
    if lowered == REAL:
        return None
    scale = _SUFFIXES.get(lowered[-1:], 1)
    number = lowered[:-1] if lowered[-1:] in _SUFFIXES else lowered
    try:
        count = round(float(number) * scale)
    except ValueError:
        raise ValueError(f"size must be 'real' or a count like 10k or 1M, got {text!r}") from None
    if count < 1:
        raise ValueError(f"size must be positive, got {text!r}")
    return count


def size_label(count: int) -> str:
    """A short label: 600, 2.5k, 44.1k, 200k, 1M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g}M"
    if count >= 1_000:
        return f"{count / 1_000:.3g}k"
    return str(count)


def hnsw_for(count: int) -> HnswParams:
    """Graph parameters per collection size: the store's defaults, then cheaper construction.

    Embedded Qdrant builds its graph on one thread on this 2-CPU machine and per-payload links
    (`payload_m`) multiply the work, so from LARGE up they are dropped and the construction beam
    narrowed, to keep the 1M build within the time budget.
    """
    if count < LARGE:
        return HnswParams()
    return replace(HnswParams(), ef_construct=64 if count < HUGE else 32, payload_m=0)


@dataclass(frozen=True)
class Collection:
    """Points to index: ids, unit vectors, and which real product lends each point its payload."""

    label: str
    ids: Ids
    vectors: Vectors
    sources: npt.NDArray[np.int64]
    real_payloads: Sequence[Payload]

    def __len__(self) -> int:
        return len(self.ids)

    def payloads(self, start: int, end: int) -> list[Payload]:
        """Payloads of points `start:end` (the source product's, with the point's own id)."""
        return [
            {**self.real_payloads[source], "id": int(point)}
            for source, point in zip(self.sources[start:end], self.ids[start:end], strict=True)
        ]


def scaled(
    ids: Ids,
    vectors: Vectors,
    payloads: Sequence[Payload],
    count: int | None,
    seed: int,
    keep: Sequence[int] = (),
    noise: float = NOISE_NORM,
) -> Collection:
    """The real collection (count None), a seeded subset, or the real one plus perturbed copies.

    A subset holds the `keep` ids (the queries: in production the query product is in the
    collection, and HNSW walks converge faster when it is) plus random others.
    """
    real = len(ids)
    if count is None or count == real:
        label = f"{size_label(real)} ({REAL})" if count is None else size_label(real)
        return Collection(label, ids, vectors, np.arange(real), payloads)
    rng = np.random.default_rng(seed)
    if count < real:
        kept = np.isin(ids, np.asarray(keep, dtype=np.int64))
        others = rng.permutation(np.flatnonzero(~kept))[: max(0, count - int(kept.sum()))]
        rows = np.sort(np.concatenate([np.flatnonzero(kept), others])[:count])
        return Collection(size_label(count), ids[rows], vectors[rows], rows, payloads)
    sources = np.concatenate([np.arange(real), rng.integers(0, real, count - real)])
    grown = np.empty((count, vectors.shape[1]), dtype=np.float32)
    grown[:real] = vectors
    sigma = noise / math.sqrt(vectors.shape[1])
    for start in range(real, count, _CHUNK):
        end = min(start + _CHUNK, count)
        chunk = vectors[sources[start:end]] + rng.normal(
            0.0, sigma, (end - start, vectors.shape[1])
        )
        grown[start:end] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    new_ids = int(ids.max()) + 1 + np.arange(count - real, dtype=np.int64)
    return Collection(size_label(count), np.concatenate([ids, new_ids]), grown, sources, payloads)
