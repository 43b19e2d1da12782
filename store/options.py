"""Build-time choices of an index: HNSW graph, quantization, FAISS index kind, sharding."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from store.protocol import PayloadIndexes

Quantization = Literal["none", "int8"]
FaissIndexKind = Literal["flat", "hnsw"]

DEFAULT_SEARCH_EF = 64  # recall@10 0.999 at 44k real CLIP vectors (bench recall)
# With int8 vectors, fetch this many times the limit and rescore them with the originals.
QUANTIZED_OVERSAMPLING = 2.0


@dataclass(frozen=True)
class HnswParams:
    """HNSW graph parameters (Qdrant and FAISS-HNSW); `ef` is a search-time setting, see open_store.

    A search whose candidates (after filtering) fit in `full_scan_threshold_kb` of vectors scores
    all of them exactly; the default covers filters passing up to ~16k points at 512-d (4k at
    2048-d), where filtered graph walks lose recall. `payload_m` adds per-value graph links for
    the indexed payload fields (Qdrant's filterable HNSW); 0 builds faster.
    """

    m: int = 16
    ef_construct: int = 128
    payload_m: int = 16
    full_scan_threshold_kb: int = 32_000

    def exact_search_limit(self, dim: int) -> int:
        """How many candidate vectors are scored exactly instead of walking the graph."""
        return self.full_scan_threshold_kb * 1024 // (4 * dim)


@dataclass(frozen=True)
class BuildOptions:
    """How a collection is built; each backend uses the parts that apply to it."""

    hnsw: HnswParams = field(default_factory=HnswParams)
    quantization: Quantization = "none"
    faiss_index: FaissIndexKind = "flat"
    shards: int = 1
    replicas: int = 1
    indexes: PayloadIndexes = field(default_factory=PayloadIndexes)

    def describe(self, backend: str) -> dict[str, Any]:
        """The options that shape this backend's index (JSON-ready; stored with each build)."""
        hnsw = asdict(self.hnsw)
        if backend == "faiss":
            return {"faiss_index": self.faiss_index} | (
                {"hnsw": hnsw} if self.faiss_index == "hnsw" else {}
            )
        described: dict[str, Any] = {"hnsw": hnsw, "quantization": self.quantization}
        if self.indexes != PayloadIndexes():
            described["indexes"] = {k: list(v) for k, v in asdict(self.indexes).items()}
        if backend == "qdrant":
            described |= {"shards": self.shards, "replicas": self.replicas}
        return described

    @staticmethod
    def from_description(described: dict[str, Any]) -> BuildOptions:
        """The options back from `describe` output (missing parts take their defaults)."""
        hnsw = HnswParams(**described["hnsw"]) if "hnsw" in described else HnswParams()
        indexes = PayloadIndexes(**{k: tuple(v) for k, v in described.get("indexes", {}).items()})
        rest = {k: v for k, v in described.items() if k not in ("hnsw", "indexes")}
        return BuildOptions(hnsw=hnsw, indexes=indexes, **rest)
