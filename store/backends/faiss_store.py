"""`faiss`: an exact (IndexFlatIP) or HNSW index with an id map, payloads kept alongside.

Files of a build: `index.faiss` (vectors, graph and the catalogue-id map) and `payloads.json`
(one payload per index position). Writes swap in a new in-memory state, so concurrent readers
always see a consistent index; deleting or replacing points rebuilds the index.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import faiss
import numpy as np

from store import filters, validation
from store.backends.local_backend import FinishableStore, LocalBackend
from store.builds import Lease
from store.errors import StoreDiskError, StoreError
from store.options import DEFAULT_SEARCH_EF, BuildOptions, FaissIndexKind, HnswParams
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector

NAME = "faiss"
INDEX_FILE = "index.faiss"
PAYLOADS_FILE = "payloads.json"


@dataclass(frozen=True)
class _Layout:
    """Which index a build uses: exact or HNSW, and the graph parameters."""

    kind: FaissIndexKind
    dim: int
    hnsw: HnswParams

    def exact_search_limit(self) -> int:
        """Up to how many candidates a search scores every one of them."""
        return self.hnsw.exact_search_limit(self.dim)

    def empty_index(self) -> Any:
        """A new, empty id-mapped index of this kind."""
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        graph = faiss.IndexHNSWFlat(self.dim, self.hnsw.m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.hnsw.ef_construct
        return faiss.IndexIDMap2(graph)


class _State:
    """An index with its payloads and lookups; replaced as a whole on every write."""

    def __init__(self, index: Any, payloads: list[Payload]) -> None:
        self.index = index
        self.payloads = payloads
        self.ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        self.positions = {int(i): p for p, i in enumerate(self.ids)}
        self.columns = filters.PayloadColumns(self.ids, payloads)
        graph: Any = faiss.downcast_index(index.index)
        self.graph = graph
        self.flat = (
            graph if isinstance(graph, faiss.IndexFlat) else faiss.downcast_index(graph.storage)
        )

    def all_vectors(self) -> Vector:
        """Every stored vector, in position order."""
        return np.asarray(self.flat.reconstruct_n(0, self.index.ntotal), dtype=np.float32)

    def without(self, ids: Sequence[int], layout: _Layout) -> _State:
        """A rebuilt state without the given ids."""
        keep_mask = np.ones(len(self.ids), dtype=np.bool_)
        keep_mask[[self.positions[i] for i in ids if i in self.positions]] = False
        keep = np.flatnonzero(keep_mask)
        index = layout.empty_index()
        if keep.size:
            index.add_with_ids(self.all_vectors()[keep], self.ids[keep])
        return _State(index, [self.payloads[p] for p in keep])


class FaissStore:
    """A collection in a FAISS index held in memory. Writes are saved on `close`."""

    def __init__(
        self,
        name: str,
        folder: Path,
        layout: _Layout,
        state: _State,
        search_ef: int,
        lease: Lease | None,
    ) -> None:
        self._name = name
        self._folder = folder
        self._layout = layout
        self._state = state
        self._search_ef = search_ef
        self._lease = lease
        self._write_lock = threading.Lock()
        self._changed = False

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points."""
        ids, matrix, checked = validation.points(ids, vectors, payloads, self._layout.dim)
        with self._write_lock:
            base = self._state
            if any(i in base.positions for i in ids):
                base = base.without(ids, self._layout)
            index = faiss.clone_index(base.index)
            index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))
            self._state = _State(index, base.payloads + checked)
            self._changed = True

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Nearest neighbours by inner product, best first."""
        queries = validation.query_vector(vector, self._layout.dim)
        return self.search_batch(queries, limit, filter, with_payload)[0]

    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix.

        Filters become a bitmap over index positions. Like Qdrant's planner, when few points
        are candidates (`HnswParams.full_scan_threshold_kb`) they are all scored exactly;
        otherwise the HNSW graph is walked, skipping points outside the bitmap.
        """
        queries = validation.query_vectors(vectors, self._layout.dim)
        state = self._state
        k = min(validation.search_limit(limit), len(state.ids))
        if k == 0:
            return [[] for _ in queries]
        checked = filters.effective(filter)
        selector, candidates = None, len(state.ids)
        if checked is not None:
            keep = state.columns.mask(checked)
            bitmap = np.packbits(keep, bitorder="little")  # must outlive the search
            selector = faiss.IDSelectorBitmap(len(keep), faiss.swig_ptr(bitmap))
            candidates = int(keep.sum())
        exact = self._layout.kind == "flat" or candidates <= self._layout.exact_search_limit()
        # SearchParametersHNSW is missing from faiss's stubs; flat indexes ignore efSearch.
        params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
            sel=selector, efSearch=self._search_ef
        )
        scores, positions = (state.flat if exact else state.graph).search(queries, k, params=params)
        return [
            [
                Hit(int(state.ids[p]), float(s), dict(state.payloads[p]) if with_payload else {})
                for p, s in zip(row_positions, row_scores, strict=True)
                if p >= 0
            ]
            for row_positions, row_scores in zip(positions, scores, strict=True)
        ]

    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids (unknown ids are absent)."""
        state = self._state
        known = [i for i in validation.point_ids(ids) if i in state.positions]
        if not known:
            return {}
        rows = state.flat.reconstruct_batch(np.array([state.positions[i] for i in known]))
        return {i: np.asarray(row, dtype=np.float32) for i, row in zip(known, rows, strict=True)}

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids (unknown ids are absent)."""
        state = self._state
        return {
            i: dict(state.payloads[state.positions[i]])
            for i in validation.point_ids(ids)
            if i in state.positions
        }

    def count(self) -> int:
        """Number of points."""
        return len(self._state.ids)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points; unknown ids are ignored."""
        checked = validation.point_ids(ids)
        with self._write_lock:
            if any(i in self._state.positions for i in checked):
                self._state = self._state.without(checked, self._layout)
                self._changed = True

    def info(self) -> CollectionInfo:
        """Name, size, dimension and the index kind and parameters."""
        details: dict[str, Any] = {"index": self._layout.kind, "folder": str(self._folder)}
        if self._layout.kind == "hnsw":
            details |= {"m": self._layout.hnsw.m, "ef_construct": self._layout.hnsw.ef_construct}
            details |= {"search_ef": self._search_ef}
        return CollectionInfo(self._name, self.count(), self._layout.dim, NAME, details)

    def finish(self) -> None:
        """Write the index and payloads into the build folder."""
        self._save()

    def close(self) -> None:
        """Save changes made since opening, and release the build (idempotent)."""
        if self._lease is None:
            return
        if self._changed:
            self._save()
        self._lease.release()
        self._lease = None

    def _save(self) -> None:
        state = self._state
        index_tmp = self._folder / f".{INDEX_FILE}.tmp"
        payloads_tmp = self._folder / f".{PAYLOADS_FILE}.tmp"
        try:
            faiss.write_index(state.index, str(index_tmp))
            payloads_tmp.write_text(json.dumps(state.payloads))
            os.replace(index_tmp, self._folder / INDEX_FILE)
            os.replace(payloads_tmp, self._folder / PAYLOADS_FILE)
        except (OSError, RuntimeError) as exc:
            raise StoreDiskError(f"cannot write the FAISS index in {self._folder}: {exc}") from exc
        self._changed = False


class FaissBackend(LocalBackend):
    """Collections as FAISS indexes under `data/faiss/<collection>/`."""

    name = NAME
    writable: ClassVar[bool] = False  # read-only builds for the API
    blocking: ClassVar[bool] = True  # releases the GIL while it searches

    def _open(self, lease: Lease, search_ef: int) -> FaissStore:
        record = lease.build.record
        options = BuildOptions.from_description(record["options"])
        layout = _Layout(options.faiss_index, record["dim"], options.hnsw)
        folder = lease.build.path
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
            payloads = json.loads((folder / PAYLOADS_FILE).read_text())
        except (OSError, RuntimeError, ValueError) as exc:
            raise StoreDiskError(f"cannot read the FAISS index in {folder}: {exc}") from exc
        if len(payloads) != index.ntotal:
            raise StoreDiskError(
                f"{folder} is inconsistent ({index.ntotal} vectors, {len(payloads)} payloads): "
                f"re-run `lookalike index --backend faiss --models {record['collection']} --force`"
            )
        state = _State(index, payloads)
        return FaissStore(record["collection"], folder, layout, state, search_ef, lease)

    def _create(
        self, path: Path, collection: str, dim: int, options: BuildOptions
    ) -> FinishableStore:
        if options.quantization != "none":
            raise StoreError(
                f"{options.quantization} quantization is available on the Qdrant backends only"
            )
        layout = _Layout(options.faiss_index, dim, options.hnsw)
        state = _State(layout.empty_index(), [])
        return FaissStore(collection, path, layout, state, DEFAULT_SEARCH_EF, None)
