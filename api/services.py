"""What the API serves from: the catalogue, one open store per model, category similarity, encoders."""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import pandas as pd

from api.schemas import Product
from embed.hybrid import recorded_weights
from embed.online import Encoders
from embed.registry import MODELS, NETWORKS
from embed.sources import WeightsSource
from embed.text import category_prompt
from ingest.catalog import load_catalog
from lookalike.settings import Settings
from recommend.categories import CategorySimilarity, Vectors
from store import open_for_serving
from store.errors import QdrantUnreachableError, UnknownCollectionError
from store.protocol import VectorStore

DESCRIPTIONS = {
    "resnet": "Visual only (ResNet): shape and texture look-alikes, blind to category labels.",
    "efficientnet": "Visual only (EfficientNet): a second visual opinion, often more diverse.",
    "clip": "Exploratory (CLIP image, in the text space): visual + semantic neighbours, "
    "crosses categories; text searches it.",
    "hybrid": "Business-controlled (image + text + category): stays within the category.",
    "clip_text": "Text (pretrained MiniLM): products whose descriptions mean alike.",
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


class Services:
    """Everything the handlers need, loaded once at start-up."""

    def __init__(
        self,
        settings: Settings,
        catalog: pd.DataFrame,
        categories: CategorySimilarity,
        manifests: dict[str, dict[str, Any]],
    ) -> None:
        self.settings = settings
        self.products = {int(r.id): product_from_row(r) for r in catalog.itertuples(index=False)}
        self.payloads: dict[int, dict[str, Any]] = {
            i: msgspec.structs.asdict(p) for i, p in self.products.items()
        }
        self.categories = categories
        self.manifests = manifests
        self.stores: dict[str, VectorStore] = {}
        self.unreachable: set[str] = set()
        self._names = catalog.set_index("id")["name"].fillna("").str.lower()
        self._with_image = [i for i, p in self.products.items() if p.has_image]
        self._encoders: Encoders | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings) -> Services:
        """Open the catalogue, the category matrix and every model collection that exists."""
        manifests = {
            model: json.loads(path.read_text())
            for model in MODELS
            if (path := settings.embeddings_dir / model / "manifest.json").is_file()
        }

        def encode_categories(names: Sequence[str]) -> Vectors:
            # A new articleType gets its vector from its name, with the query encoder.
            return services.encoders.encode_texts([category_prompt(name) for name in names])

        categories = CategorySimilarity.load(
            settings.embeddings_dir / "categories", encode_categories
        )
        services = cls(settings, load_catalog(settings.catalog_dir), categories, manifests)
        for model in MODELS:
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
                self.stores[model] = open_for_serving(self.settings, model)
            except UnknownCollectionError:
                return None
            except QdrantUnreachableError:
                self.unreachable.add(model)
                raise
            self.unreachable.discard(model)
            return self.stores[model]

    def payload(self, product_id: int) -> dict[str, Any]:
        """The catalogue metadata of a product (the pipeline's payload source)."""
        return self.payloads.get(product_id, {})

    def available_models(self) -> list[str]:
        """Models that are open or waiting for the server to come back."""
        return [m for m in MODELS if m in self.stores or m in self.unreachable]

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
                # Encode queries with the very weights the indexed vectors were made with.
                sources = {
                    m["network"]: WeightsSource(m["weights"]["source"], m["weights"]["ref"])
                    for m in self.manifests.values()
                    if m.get("network") in NETWORKS
                }
                self._encoders = Encoders(
                    sources,
                    hybrid=recorded_weights(self.manifests.get("hybrid")),
                    category_names=self.categories.names,
                )
            return self._encoders
