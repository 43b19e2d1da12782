"""Read-only access to the ingested catalogue (docs/CONTRACTS.md, ingest section)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from embed.errors import CatalogNotReadyError

REQUIRED = ("products.parquet", "pixels.npy", "catalog.sha256")


@dataclass(frozen=True)
class Catalog:
    """Products, their normalised pixels (memory-mapped) and the build hash."""

    products: pd.DataFrame
    pixels: npt.NDArray[np.uint8]
    hash: str

    def with_images(self) -> pd.DataFrame:
        """Products that have a usable image."""
        return self.products[self.products["pixel_row"].notna()]

    def pixels_of(self, products: pd.DataFrame) -> npt.NDArray[np.uint8]:
        """The (N, 80, 80, 3) pixels of products that all have an image, in their order."""
        return np.asarray(self.pixels[products["pixel_row"].to_numpy(dtype=np.int64)])


def _read_products(catalog_dir: Path) -> pd.DataFrame:
    try:
        from ingest.catalog import load_catalog  # the ingest stage's reader, when available
    except ImportError:
        return pd.read_parquet(catalog_dir / "products.parquet")
    return load_catalog(catalog_dir)


def open_catalog(catalog_dir: Path) -> Catalog:
    """Open the catalogue written by `lookalike ingest`, or explain how to create it."""
    missing = [name for name in REQUIRED if not (catalog_dir / name).is_file()]
    if missing:
        raise CatalogNotReadyError(
            f"{catalog_dir} lacks {', '.join(missing)}; run `lookalike ingest` first "
            "(or pass --data-dir pointing at an ingested catalogue)"
        )
    pixels = np.load(catalog_dir / "pixels.npy", mmap_mode="r")
    catalog_hash = (catalog_dir / "catalog.sha256").read_text().split()[0]
    return Catalog(_read_products(catalog_dir), pixels, catalog_hash)
