"""Read-only access to the catalogue: products from the catalogue service, pixels from ingest.

Products ingested in bulk have their pixels in `pixels.npy`; products written through the API
since have theirs in their own normalised image file (docs/CONTRACTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from catalogue.database import CatalogueDB, CatalogueNotReadyError
from core.schema import CatalogueSchema
from core.settings import DATABASE_FILE
from embed.errors import CatalogNotReadyError

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class CatalogueSnapshot:
    """Products, their normalised pixels and the identity of the catalogue state."""

    products: pd.DataFrame
    pixels: Pixels  # ingested pixels (memory-mapped), indexed by `pixel_row`
    hash: str
    version: int
    data_dir: Path
    schema: CatalogueSchema

    def with_images(self) -> pd.DataFrame:
        """Products that have a usable image."""
        return self.products[self.products["has_image"]]

    def pixels_of(self, products: pd.DataFrame) -> Pixels:
        """The (N, 80, 80, 3) pixels of products that all have an image, in their order."""
        rows = products["pixel_row"]
        out = np.empty((len(products), *self.pixels.shape[1:]), dtype=np.uint8)
        ingested = rows.notna().to_numpy()
        out[ingested] = self.pixels[rows[ingested].to_numpy(dtype=np.int64)]
        for index in np.flatnonzero(~ingested):
            out[index] = self.live_pixels(str(products["image_file"].iloc[index]))
        return out

    def live_pixels(self, image_file: str) -> Pixels:
        """The pixels of a product written through the API (its normalised PNG)."""
        from PIL import Image

        with Image.open(self.data_dir / image_file) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)


def open_catalog(catalog_dir: Path) -> CatalogueSnapshot:
    """The catalogue as the catalogue service holds it now, or how to create it."""
    pixels_file = catalog_dir / "pixels.npy"
    database_file = catalog_dir.parent / DATABASE_FILE
    try:
        database = CatalogueDB(database_file)
    except CatalogueNotReadyError as exc:
        raise CatalogNotReadyError(str(exc)) from exc
    if not pixels_file.is_file():
        raise CatalogNotReadyError(
            f"{catalog_dir} lacks pixels.npy; run `lookalike ingest` first "
            "(or pass --data-dir pointing at an ingested catalogue)"
        )
    try:
        products, version, identity = database.frame(), database.version, database.identity()
    finally:
        database.close()
    pixels = np.load(pixels_file, mmap_mode="r")
    return CatalogueSnapshot(
        products, pixels, identity, version, catalog_dir.parent, database.schema
    )
