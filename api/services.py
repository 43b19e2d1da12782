"""What the API serves from: the catalogue, one open store per model, category similarity, encoders."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from api.categories import CategorySimilarity
from api.schemas import Product
from ingest.catalog import load_catalog
from lookalike.settings import Settings
from store import open_store
from store.protocol import VectorStore

if TYPE_CHECKING:
    from embed.online import Encoders

SERVED_MODELS = ("resnet", "efficientnet", "clip", "hybrid", "clip_text")
DESCRIPTIONS = {
    "resnet": "Visual only (ResNet): shape and texture look-alikes, blind to category labels.",
    "efficientnet": "Visual only (EfficientNet): a second visual opinion, often more diverse.",
    "clip": "Exploratory (CLIP image): visual + semantic neighbours, crosses categories.",
    "hybrid": "Business-controlled (CLIP image + text + category): stays within the category.",
    "clip_text": "Text (CLIP text tower): products whose descriptions read alike.",
}


def _text(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


def product_from_row(row: Any) -> Product:
    """The API view of a catalogue row."""
    has_image = bool(row.has_image)
    return Product(
        product_id=str(row.id),
        name=_text(row.name),
        gender=_text(row.gender),
        masterCategory=_text(row.masterCategory),
        subCategory=_text(row.subCategory),
        articleType=_text(row.articleType),
        baseColour=_text(row.baseColour),
        season=_text(row.season),
        year=None if pd.isna(row.year) else int(row.year),
        usage=_text(row.usage),
        has_image=has_image,
        image_url=f"/products/{row.id}/image" if has_image else None,
    )


@dataclass
class Services:
    """Everything the handlers need, loaded once at start-up."""

    settings: Settings
    products: dict[int, Product]
    stores: dict[str, VectorStore]
    categories: CategorySimilarity
    manifests: dict[str, dict[str, Any]]
    _names: pd.Series = field(repr=False)
    _with_image: list[int] = field(default_factory=list, repr=False)
    _encoders: Encoders | None = None
    _encoder_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Open the catalogue, the category matrix and every model collection that exists."""
        catalog = load_catalog(settings.catalog_dir)
        products = {int(row.id): product_from_row(row) for row in catalog.itertuples(index=False)}
        names = catalog.set_index("id")["name"].fillna("").str.lower()
        stores: dict[str, VectorStore] = {}
        manifests: dict[str, dict[str, Any]] = {}
        for model in SERVED_MODELS:
            manifest = settings.embeddings_dir / model / "manifest.json"
            if manifest.is_file():
                manifests[model] = json.loads(manifest.read_text())
                stores[model] = open_store(settings, model)
        categories = CategorySimilarity.load(settings.embeddings_dir / "categories")
        with_image = [i for i, p in products.items() if p.has_image]
        return cls(settings, products, stores, categories, manifests, names, with_image)

    def close(self) -> None:
        """Release the stores."""
        for store in self.stores.values():
            store.close()

    def find(self, query: str, limit: int) -> list[Product]:
        """Products whose name contains every word of `query`, shortest names first."""
        mask = pd.Series(True, index=self._names.index)
        for word in query.lower().split():
            mask &= self._names.str.contains(word, regex=False)
        hits = self._names[mask]
        ordered = hits.str.len().sort_values(kind="stable").index[:limit]
        return [self.products[int(i)] for i in ordered]

    def random_product(self) -> Product:
        """A random product that has an image."""
        return self.products[random.choice(self._with_image)]

    def image_path(self, product_id: int) -> Path:
        """The normalised image file of a product."""
        return self.settings.catalog_dir / "images" / f"{product_id}.png"

    @property
    def encoders(self) -> Encoders:
        """The online image/text encoders, loaded on first use (thread-safe)."""
        with self._encoder_lock:
            if self._encoders is None:
                from embed.online import Encoders

                self._encoders = Encoders()
            return self._encoders
