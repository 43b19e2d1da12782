"""A tiny but complete data folder: the real catalogue slice, synthetic embeddings, real indexes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from core.registry import MODELS
from core.settings import Settings
from ingest.catalog import load_catalog
from store import BuildOptions
from store.indexing import index_models

BENCH_MODELS = ("resnet", "efficientnet", "clip", "hybrid")
PRODUCTS = 600  # embedded products: enough for ~60 held-out queries, small enough to index fast
NOISE = 0.8


def write_embeddings(folder: Path, model: str, ids: np.ndarray, vectors: np.ndarray) -> None:
    """One model's files in the `lookalike embed` layout (docs/CONTRACTS.md)."""
    folder.mkdir(parents=True)
    np.save(folder / "vectors.npy", vectors.astype(np.float32))
    np.save(folder / "ids.npy", ids.astype(np.int64))
    manifest = {"model": model, "dim": int(vectors.shape[1]), "count": len(ids)}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def clustered(types: list[str], dim: int, seed: int) -> np.ndarray:
    """Unit vectors near one random centre per articleType, so neighbours tend to share a type."""
    rng = np.random.default_rng(seed)
    names = sorted(set(types))
    centres = dict(zip(names, rng.normal(size=(len(names), dim)), strict=True))
    raw = np.stack([centres[t] for t in types]) + NOISE * rng.normal(size=(len(types), dim))
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def bench_settings(slice_catalog: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the ingested slice, with embeddings of its first pictured products, indexed."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("bench-data"))
    settings.catalog_dir.symlink_to(slice_catalog.catalog_dir.resolve())
    with (
        sqlite3.connect(slice_catalog.catalogue_db) as source,
        sqlite3.connect(settings.catalogue_db) as target,
    ):
        source.backup(target)  # consistent even while the session's API has it open
    products = load_catalog(settings.catalog_dir)
    pictured = products[products["has_image"]].head(PRODUCTS)
    ids = pictured["id"].to_numpy()
    types = pictured["articleType"].fillna("").astype(str).tolist()
    for seed, model in enumerate(BENCH_MODELS):
        vectors = clustered(types, MODELS[model].dim, seed)
        write_embeddings(settings.embeddings_dir / model, model, ids, vectors)
    names = sorted(products["articleType"].dropna().unique().tolist())
    categories = settings.embeddings_dir / "categories"
    categories.mkdir()
    (categories / "names.json").write_text(json.dumps(names))
    np.save(categories / "vectors.npy", clustered(names, 32, seed=99).astype(np.float32))
    index_models(
        settings, BENCH_MODELS, backend="qdrant-embedded", options=BuildOptions(), progress=False
    )
    return settings
