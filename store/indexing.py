"""`lookalike index`: load each model's embeddings and catalogue payloads into a collection."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from catalogue.database import CatalogueDB, CatalogueNotReadyError
from core.manifest import MANIFEST_FILE, manifest_path, read_manifest_checked
from core.schema import CatalogueSchema
from core.settings import Settings
from store.errors import CatalogError, EmbeddingsError
from store.factory import build_collection, collection_record
from store.names import MODELS
from store.options import BuildOptions
from store.protocol import Payload, PayloadIndexes

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

UPSERT_BATCH = 2048
EMBED_HINT = "run `lookalike embed` first"


def payload_fields(schema: CatalogueSchema) -> tuple[str, ...]:
    """A product's payload: the schema's fields with the normalised `name` in place of the raw
    title, and the catalogue version of the product's last write."""
    return ("id", "name", *(f for f in schema.fields[1:] if f != schema.title), "version")


@dataclass(frozen=True)
class Embeddings:
    """One model's vectors as written by `lookalike embed`, checked against its manifest."""

    model: str
    ids: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]
    manifest_sha256: str
    catalogue_version: int  # the catalogue version the vectors were computed from

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.vectors.shape[1])


def load_embeddings(embeddings_dir: Path, model: str) -> Embeddings:
    """`<embeddings_dir>/<model>/` read (vectors memory-mapped) and checked against the manifest."""
    folder = embeddings_dir / model
    missing = [n for n in ("vectors.npy", "ids.npy", MANIFEST_FILE) if not (folder / n).is_file()]
    if missing:
        raise EmbeddingsError(
            f"no {model} embeddings in {folder} (missing {', '.join(missing)}): {EMBED_HINT}"
        )
    try:
        manifest, digest = read_manifest_checked(folder)
        dim, count = int(manifest["dim"]), int(manifest["count"])
        named = manifest["model"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EmbeddingsError(
            f"{folder}/manifest.json lacks a valid model, dim and count ({exc}): {EMBED_HINT}"
        ) from exc
    if named != model:
        raise EmbeddingsError(f"{folder}/manifest.json is for model {named!r}, not {model!r}")
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    ids = np.load(folder / "ids.npy")
    if vectors.shape != (count, dim) or vectors.dtype != np.float32:
        raise EmbeddingsError(
            f"{folder}: the manifest says {count} vectors of dim {dim}, but vectors.npy holds "
            f"{vectors.dtype} {vectors.shape}: re-run `lookalike embed`"
        )
    if ids.shape != (count,) or ids.dtype.kind not in "iu":
        raise EmbeddingsError(
            f"{folder}: the manifest says {count} ids, but ids.npy holds {ids.dtype} {ids.shape}: "
            "re-run `lookalike embed`"
        )
    if np.unique(ids).size != count:
        raise EmbeddingsError(f"{folder}/ids.npy repeats ids: re-run `lookalike embed`")
    version = int(manifest.get("catalogue_version", 0))
    return Embeddings(model, ids.astype(np.int64), vectors, digest, version)


class CataloguePayloads:
    """Product metadata keyed by catalogue id, turned into payloads (from the catalogue service)."""

    def __init__(self, database_file: Path) -> None:
        try:
            database = CatalogueDB(database_file)
        except CatalogueNotReadyError as exc:
            raise CatalogError(str(exc)) from exc
        try:
            frame, self.identity = database.frame(), database.identity()
            self.schema = database.schema
            self._deletes = {c.id: c.version for c in database.changes_since(0) if c.op == "delete"}
        finally:
            database.close()
        self._rows = frame.set_index("id", drop=False)[list(payload_fields(self.schema))]
        integer = tuple(f for f in self.schema.numeric if str(frame[f].dtype) == "Int64")
        self.indexes = PayloadIndexes(
            keyword=self.schema.facets,
            integer=integer,
            float=tuple(f for f in self.schema.numeric if f not in integer),
        )

    def deleted_since(self, version: int) -> list[int]:
        """Ids removed through the API after catalogue version `version`."""
        return [i for i, at in self._deletes.items() if i is not None and at > version]

    def known(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which ids the catalogue holds."""
        return np.isin(ids, self._rows.index.to_numpy())

    def payloads(self, ids: npt.NDArray[np.int64]) -> list[Payload]:
        """Payloads of the given ids, in order; nulls as None."""
        unknown = ids[~self.known(ids)]
        if unknown.size:
            raise CatalogError(
                f"{unknown.size} embedded ids are not in the catalogue (e.g. {unknown[:3].tolist()}): "
                "the embeddings are older than the catalogue; re-run `lookalike embed`"
            )
        rows = self._rows.loc[ids].astype(object)
        return rows.where(rows.notna(), None).to_dict("records")


@dataclass(frozen=True)
class IndexReport:
    """What `index_model` did for one model."""

    model: str
    backend: str
    built: bool
    points: int
    seconds: float

    def summary(self) -> str:
        """One line for the terminal."""
        action = f"built in {self.seconds:.1f}s" if self.built else "up to date, skipped"
        return f"{self.model:<13} {self.points:>7} points  {action}  ({self.backend})"


def index_model(
    settings: Settings,
    model: str,
    catalogue: CataloguePayloads,
    *,
    backend: str,
    options: BuildOptions,
    client: QdrantClient | None = None,
    force: bool = False,
    progress: bool = True,
) -> IndexReport:
    """Replace the model's collection with its embeddings, unless it already matches them.

    Products deleted from the catalogue since `lookalike embed` are left out; the build records
    the catalogue version its vectors reflect, and the API replays later writes into it.
    """
    embeddings = load_embeddings(settings.embeddings_dir, model)
    source: dict[str, Any] = {
        "manifest_sha256": embeddings.manifest_sha256,
        "catalogue_version": embeddings.catalogue_version,
        "count": len(embeddings.ids),
    }
    options = replace(options, indexes=catalogue.indexes)
    live = collection_record(settings, model, backend=backend, client=client)
    if not force and live is not None and _matches(live, source, options.describe(backend)):
        return IndexReport(model, backend, False, len(embeddings.ids), 0.0)
    started = time.perf_counter()
    kept = catalogue.known(embeddings.ids) | ~np.isin(
        embeddings.ids, catalogue.deleted_since(embeddings.catalogue_version)
    )
    ids, vectors = embeddings.ids, embeddings.vectors
    if not kept.all():
        print(f"{model}: {int((~kept).sum())} products deleted since `lookalike embed` left out")
        ids, vectors = ids[kept], vectors[kept]
    count = len(ids)
    payloads = catalogue.payloads(ids)
    building = build_collection(
        settings,
        model,
        embeddings.dim,
        record={"source": source},
        options=options,
        backend=backend,
        client=client,
    )
    bar = tqdm(total=count, desc=f"{model} → {backend}", unit="pt", disable=not progress)
    with building as store, bar:
        for start in range(0, count, UPSERT_BATCH):
            end = min(start + UPSERT_BATCH, count)
            store.upsert(
                ids[start:end].tolist(), np.asarray(vectors[start:end]), payloads[start:end]
            )
            bar.update(end - start)
        bar.set_postfix_str("building the index")
    return IndexReport(model, backend, True, count, time.perf_counter() - started)


def _matches(live: dict[str, Any], source: dict[str, Any], options: dict[str, Any]) -> bool:
    return bool(live.get("source") == source and live.get("options") == options)


def available_models(embeddings_dir: Path) -> list[str]:
    """The models that have embeddings on disk."""
    return [m for m in MODELS if manifest_path(embeddings_dir / m).is_file()]


def index_models(
    settings: Settings,
    models: Sequence[str] | None,
    *,
    backend: str,
    options: BuildOptions,
    client: QdrantClient | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[IndexReport]:
    """`index_model` for each model (default: every model with embeddings)."""
    chosen = list(models) if models else available_models(settings.embeddings_dir)
    if not chosen:
        raise EmbeddingsError(f"no embeddings under {settings.embeddings_dir}: {EMBED_HINT}")
    catalogue = CataloguePayloads(settings.catalogue_db)
    return [
        index_model(
            settings,
            model,
            catalogue,
            backend=backend,
            options=options,
            client=client,
            force=force,
            progress=progress,
        )
        for model in chosen
    ]
