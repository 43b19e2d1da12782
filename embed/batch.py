"""`lookalike embed`: vectors for the whole catalogue, one directory per model, rebuilt atomically."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from core.manifest import Manifest, read_manifest, write_manifest
from core.registry import TEXT, ModelSpec, Network, get_model
from core.schema import CatalogueSchema
from core.settings import Settings
from embed.catalog import CatalogueSnapshot, open_catalog
from embed.encoding import Vectors, encode_pixels
from embed.hybrid import DEFAULT_HYBRID, HybridWeights, category_vectors, hybrid_vectors
from embed.loader import NetworkLoader
from embed.text import category_prompt, product_text
from embed.text_encoder import TextEncoder
from embed.weights import LoadedNetwork

BATCH_SIZE = 256
CATEGORIES = "categories"
Ids = npt.NDArray[np.int64]


class PixelRows(Dataset[torch.Tensor]):
    """Catalogue pixels of selected products: `pixels.npy` rows, or live products' image files."""

    def __init__(self, catalog: CatalogueSnapshot, products: pd.DataFrame) -> None:
        self.catalog = catalog
        self.rows = products["pixel_row"].fillna(-1).to_numpy(dtype=np.int64)
        self.files = products["image_file"].tolist()

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> torch.Tensor:
        row = self.rows[index]
        if row < 0:
            return torch.from_numpy(self.catalog.live_pixels(str(self.files[index])))
        return torch.from_numpy(np.array(self.catalog.pixels[row]))


def _single_thread_worker(_: int) -> None:
    torch.set_num_threads(1)


def _pixel_batches(
    catalog: CatalogueSnapshot, products: pd.DataFrame, workers: int
) -> DataLoader[torch.Tensor]:
    return DataLoader(
        PixelRows(catalog, products),
        batch_size=BATCH_SIZE,
        num_workers=workers,
        worker_init_fn=_single_thread_worker if workers else None,
    )


def _encode_images(
    loaded: LoadedNetwork,
    catalog: CatalogueSnapshot,
    products: pd.DataFrame,
    label: str,
    workers: int,
) -> Vectors:
    start = time.monotonic()
    chunks = [
        encode_pixels(loaded, batch)
        for batch in tqdm(
            _pixel_batches(catalog, products, workers),
            desc=f"embed {label}",
            mininterval=5.0,
        )
    ]
    seconds = time.monotonic() - start
    print(
        f"{label}: {len(products)} images in {seconds:.1f} s ({len(products) / seconds:.0f} images/s)"
    )
    return np.concatenate(chunks)


def _encode_product_texts(
    encoder: TextEncoder, products: pd.DataFrame, schema: CatalogueSchema, label: str
) -> Vectors:
    start = time.monotonic()
    texts = [product_text(p, schema) for p in products.to_dict("records")]
    vectors = encoder.encode(texts, progress=f"{label} texts")
    seconds = time.monotonic() - start
    print(f"{label}: {len(texts)} texts in {seconds:.1f} s ({len(texts) / seconds:.0f} texts/s)")
    return vectors


class LocalEngine:
    """Image and text vectors computed in this process (DataLoader workers read pixels)."""

    def __init__(self, catalog: CatalogueSnapshot, loader: NetworkLoader, workers: int = 2) -> None:
        self.catalog, self.loader, self.workers = catalog, loader, workers

    def images(self, network: Network, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of products that all have an image, in their order."""
        loaded = self.loader.get(network)
        return _encode_images(loaded, self.catalog, products, label, self.workers)

    def texts(self, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of the products' texts, in their order."""
        return _encode_product_texts(self.loader.text(), products, self.catalog.schema, label)


class Engine(Protocol):
    """Where the image and text vectors of a batch embedding are computed."""

    def images(self, network: Network, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of products that all have an image, in their order."""
        ...

    def texts(self, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of the products' texts, in their order."""
        ...


class CatalogEmbedder:
    """Computes each model's vectors for a catalogue, sharing CLIP work within one run."""

    def __init__(
        self,
        catalog: CatalogueSnapshot,
        loader: NetworkLoader,
        hybrid: HybridWeights,
        engine: Engine,
    ):
        self.catalog = catalog
        self.loader = loader
        self.hybrid = hybrid
        self.engine = engine
        self._memo: dict[str, tuple[Ids, Vectors]] = {}

    def vectors(self, spec: ModelSpec) -> tuple[Ids, Vectors]:
        """Ids and vectors of every product the model can embed (memoised per run)."""
        if spec.name not in self._memo:
            self._memo[spec.name] = self._compute(spec)
        return self._memo[spec.name]

    def _compute(self, spec: ModelSpec) -> tuple[Ids, Vectors]:
        products = self.catalog.products if spec.input == "text" else self.catalog.with_images()
        skipped = len(self.catalog.products) - len(products)
        if skipped:
            print(f"{spec.name}: skipped {skipped} products without an image")
        ids = products["id"].to_numpy(dtype=np.int64)
        if spec.input == "image":
            network = cast(Network, spec.network)
            return ids, self.engine.images(network, products, spec.name)
        if spec.input == "text":
            return ids, self.engine.texts(products, spec.name)
        image = self._aligned(get_model("clip"), ids)
        text = self._aligned(get_model("clip_text"), ids)
        types = products[self.catalog.schema.category].fillna("").astype(str).tolist()
        category = category_vectors(self.loader.text(), types)
        return ids, hybrid_vectors(self.hybrid, image, text, category)

    def _aligned(self, spec: ModelSpec, ids: Ids) -> Vectors:
        own_ids, vectors = self.vectors(spec)
        position = pd.Index(own_ids).get_indexer(ids)
        return vectors[position]


def _manifest(
    spec: ModelSpec, loader: NetworkLoader, catalog: CatalogueSnapshot, hybrid: HybridWeights
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "model": spec.name,
        "network": spec.network,
        "weights": loader.describe(spec.network),
        "catalog_hash": catalog.hash,
        "catalogue_version": catalog.version,
    }
    if spec.input == "hybrid":
        manifest["hybrid_weights"] = asdict(hybrid)
        manifest["text_weights"] = loader.describe(TEXT)
    return manifest


def _matches(directory: Path, expected: dict[str, Any]) -> bool:
    saved = read_manifest(directory)
    return saved is not None and all(saved.get(key) == value for key, value in expected.items())


def write_atomically(
    directory: Path,
    arrays: dict[str, np.ndarray],
    manifest: Manifest,
    documents: dict[str, Any] | None = None,
) -> None:
    """Write arrays (.npy), the manifest and JSON documents to a temp dir, then swap it in for
    `directory`."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    temp = directory.parent / f".{directory.name}.tmp-{os.getpid()}"
    old = directory.parent / f".{directory.name}.old-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    for name, array in arrays.items():
        np.save(temp / f"{name}.npy", array)
    for name, document in (documents or {}).items():
        (temp / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    write_manifest(temp, manifest)
    if directory.exists():
        directory.rename(old)
    temp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _write_categories(
    out: Path, encoder: TextEncoder, catalog: CatalogueSnapshot, force: bool
) -> None:
    category = catalog.schema.category
    names = sorted(catalog.products[category].dropna().astype(str).unique().tolist())
    expected = {"weights": encoder.describe(), "catalog_hash": catalog.hash}
    if not force and _matches(out, expected):
        print("categories: up to date, skipped")
        return
    vectors = encoder.encode([category_prompt(name) for name in names])
    manifest = {
        **expected,
        "count": len(names),
        "dim": int(vectors.shape[1]),
        "prompt": category_prompt(f"<{category}>"),
    }
    write_atomically(out, {"vectors": vectors}, manifest, {"names": names})
    print(f"categories: {len(names)} {category} vectors written")


def embed_catalog(
    settings: Settings,
    models: Sequence[str],
    loader: NetworkLoader,
    hybrid: HybridWeights = DEFAULT_HYBRID,
    force: bool = False,
    workers: int = 2,
    engine: Engine | None = None,
) -> None:
    """Write `data/embeddings/<model>/` for each model (skipping up-to-date ones) and categories.

    `engine` computes the vectors (default: this process, with `workers` DataLoader processes
    reading pixels); every engine writes the same files."""
    torch.set_num_threads(2)
    catalog = open_catalog(settings.catalog_dir)
    embedder = CatalogEmbedder(
        catalog, loader, hybrid, engine or LocalEngine(catalog, loader, workers)
    )
    for name in models:
        spec = get_model(name)
        out = settings.embeddings_dir / spec.name
        expected = _manifest(spec, loader, catalog, hybrid)
        if not force and _matches(out, expected):
            print(f"{spec.name}: up to date, skipped")
            continue
        ids, vectors = embedder.vectors(spec)
        manifest = {**expected, "dim": int(vectors.shape[1]), "count": len(ids)}
        write_atomically(out, {"vectors": vectors, "ids": ids}, manifest)
        print(f"{spec.name}: {len(ids)} vectors of dim {vectors.shape[1]} written to {out}")
    _write_categories(settings.embeddings_dir / CATEGORIES, loader.text(), catalog, force)
