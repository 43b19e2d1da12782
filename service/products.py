"""Catalogue products as the API shows them: look-up, name search, a random pick, images."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalogue.database import CatalogueStats, Record
from catalogue.images import ProductImages
from core.ids import parse_product_id
from core.schema import CatalogueSchema
from service.errors import RequestError, not_found
from service.replica import CatalogueReplica
from service.schemas import Product


def product_view(record: Mapping[str, Any]) -> Product:
    """The API view of a catalogue row."""
    has_image = bool(record["has_image"])
    return Product(
        product_id=str(record["id"]),
        name=record.get("name"),
        gender=record.get("gender"),
        masterCategory=record.get("masterCategory"),
        subCategory=record.get("subCategory"),
        articleType=record.get("articleType"),
        baseColour=record.get("baseColour"),
        season=record.get("season"),
        year=record.get("year"),
        usage=record.get("usage"),
        has_image=has_image,
        image_url=f"/products/{record['id']}/image" if has_image else None,
    )


def product_id_or_404(product_id: str) -> int:
    """The catalogue id in a path or query, or a 404 quoting (the start of) what was sent."""
    parsed = parse_product_id(product_id)
    if parsed is None:
        raise not_found(product_id)
    return parsed


class Products:
    """Reads of the served catalogue (the replica: no database query but for name search)."""

    def __init__(self, replica: CatalogueReplica, images: ProductImages) -> None:
        self._replica = replica
        self._images = images

    @property
    def schema(self) -> CatalogueSchema:
        """The catalogue schema of the served catalogue."""
        return self._replica.database.schema

    @property
    def version(self) -> int:
        """The catalogue version served."""
        return self._replica.version

    def product(self, product_id: int) -> Product | None:
        """A catalogue product as the API shows it, or None."""
        record = self._replica.get(product_id)
        return None if record is None else product_view(record)

    def product_or_404(self, product_id: str) -> Product:
        """The catalogue product named in a path or query, or a 404."""
        product = self.product(product_id_or_404(product_id))
        if product is None:
            raise not_found(product_id)
        return product

    def payload_of(self, product_id: str) -> dict[str, Any] | None:
        """A product's catalogue metadata by its id as clients write it (None if unknown)."""
        parsed = parse_product_id(product_id)
        return None if parsed is None else self._replica.get(parsed)

    def payload(self, product_id: int) -> dict[str, Any]:
        """The catalogue metadata of a product (the pipeline's payload source)."""
        return self._replica.get(product_id) or {}

    def find(self, query: str, limit: int) -> list[Product]:
        """Products whose name contains every word of `query`, shortest names first."""
        return [product_view(r) for r in self._replica.database.find(query.split(), limit)]

    def random_product(self) -> Product:
        """A random product that has an image."""
        ids = self._replica.ids_with_image()
        if not ids:
            raise RequestError(404, "the catalogue has no product with an image yet")
        return self.product(random.choice(ids)) or self.random_product()

    def image(self, product_id: str) -> tuple[Record, Path]:
        """A product's record and normalised image file, or a 404 saying why there is none."""
        pid = product_id_or_404(product_id)
        record = self._replica.get(pid)
        if record is None:
            raise not_found(product_id)
        path = self._images.path(record) if record["has_image"] else None
        if path is None:
            raise RequestError(404, f"product {pid} has no usable image")
        return record, path

    def stats(self) -> CatalogueStats:
        """Counts, version and last write of the catalogue database."""
        return self._replica.database.stats()
