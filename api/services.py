"""What the API serves from: the catalogue, one open store per model, category similarity, encoders."""

from __future__ import annotations

import contextlib
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
from store.errors import QdrantUnreachableError, UnknownCollectionError
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
    categories: CategorySimilarity
    manifests: dict[str, dict[str, Any]]
    _names: pd.Series = field(repr=False)
    _with_image: list[int] = field(repr=False)
    stores: dict[str, VectorStore] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    _encoders: Encoders | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Open the catalogue, the category matrix and every model collection that exists."""
        catalog = load_catalog(settings.catalog_dir)
        products = {int(row.id): product_from_row(row) for row in catalog.itertuples(index=False)}
        names = catalog.set_index("id")["name"].fillna("").str.lower()
        manifests = {
            model: json.loads(path.read_text())
            for model in SERVED_MODELS
            if (path := settings.embeddings_dir / model / "manifest.json").is_file()
        }
        categories = CategorySimilarity.load(settings.embeddings_dir / "categories")
        with_image = [i for i, p in products.items() if p.has_image]
        services = cls(settings, products, categories, manifests, names, with_image)
        for model in SERVED_MODELS:
            with contextlib.suppress(QdrantUnreachableError, UnknownCollectionError):
                services.store(model)
        return services

    def store(self, model: str) -> VectorStore | None:
        """The model's open collection; None if it was never indexed.

        A server that was unreachable is asked again on every call (QdrantUnreachableError →
        503), so the API recovers by itself once Qdrant is back.
        """
        if model in self.stores:
            return self.stores[model]
        with self._lock:
            try:
                self.stores[model] = open_store(self.settings, model)
            except UnknownCollectionError:
                return None
            except QdrantUnreachableError:
                self.unreachable.add(model)
                raise
            self.unreachable.discard(model)
            return self.stores[model]

    def available_models(self) -> list[str]:
        """Models that are open or waiting for the server to come back."""
        return [m for m in SERVED_MODELS if m in self.stores or m in self.unreachable]

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
        with self._lock:
            if self._encoders is None:
                from embed.online import Encoders

                self._encoders = Encoders()
            return self._encoders
