"""Normalised images of products written through the API, beside the ingested ones."""

from __future__ import annotations

import os
from pathlib import Path

from catalogue.database import Record
from catalogue.records import ProductImage

LIVE_IMAGES = "catalogue-images"  # in the data folder


class ProductImages:
    """Where a product's PNG lives: `catalog/images/<id>.png` (ingested) or
    `catalogue-images/<id>-<sha1[:12]>.png` (written through the API)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._live = data_dir / LIVE_IMAGES

    def path(self, record: Record) -> Path | None:
        """The normalised image file of a product, if it has one."""
        return self._data_dir / record["image_file"] if record.get("image_file") else None

    def save(self, product_id: int, image: ProductImage) -> str:
        """Write the normalised PNG durably; its name changes with its content (a new ETag)."""
        self._live.mkdir(parents=True, exist_ok=True)
        path = self._live / f"{product_id}-{image.sha1[:12]}.png"
        with path.open("wb") as file:
            file.write(image.png)
            file.flush()
            os.fsync(file.fileno())
        return str(path.relative_to(self._data_dir))

    def discard(self, image_file: str | None) -> None:
        """Remove a replaced live image (ingested images belong to the ingest build)."""
        if image_file and image_file.startswith(self._live.name + "/"):
            (self._data_dir / image_file).unlink(missing_ok=True)
