"""Online encoders for the API: uploads and query texts to the same vectors as the batch path."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image

from core.registry import Network, get_model, models_answering
from embed.encoding import Vectors, encode_pixels
from embed.hybrid import DEFAULT_HYBRID, HybridWeights, category_vectors, hybrid_vectors
from embed.loader import NetworkLoader
from embed.text import CLIP_QUERY_TEMPLATES, category_prompt, templated_vectors
from embed.text_encoder import TextEncoder
from embed.weights import WEIGHTS_DIR, WeightsSource
from ingest.images import normalise

Vector = npt.NDArray[np.float32]


def normalised_pixels(images: Sequence[Image.Image]) -> torch.Tensor:
    """uint8 (B, 80, 80, 3) pixels of arbitrary images, normalised exactly as ingest does."""
    return torch.from_numpy(
        np.stack([np.asarray(normalise(image), dtype=np.uint8) for image in images])
    )


class Encoders:
    """All models, loaded lazily once and safe to call from several threads."""

    def __init__(
        self,
        sources: Mapping[Network, WeightsSource] | None = None,
        weights_dir: Path = WEIGHTS_DIR,
        hybrid: HybridWeights = DEFAULT_HYBRID,
        category_names: Sequence[str] = (),
    ) -> None:
        self._loader = NetworkLoader(sources, weights_dir)
        self._hybrid = hybrid
        self._category_names = sorted(category_names)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load every network and the text encoder now rather than on the first request."""
        probe = Image.new("RGB", (8, 8), "white")
        for model in models_answering("photo"):
            self.encode_images(model, [probe])
        self.encode_texts(["a"])

    def dim(self, model: str) -> int:
        """Vector dimension of a model with the configured weights."""
        if get_model(model).input == "text":
            return int(self.encode_texts(["a"]).shape[1])
        return int(self.encode_images(model, [Image.new("RGB", (8, 8), "white")]).shape[1])

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        """Text-encoder vectors of query texts: the `clip_text` space, which CLIP images share."""
        encoder = self._loader.text()
        with self._lock:
            return encoder.encode(texts)

    def encode_query_texts(self, model: str, texts: Sequence[str]) -> Vectors:
        """Query vectors of texts for a model that text can search: `clip` and `clip_text` share
        the text space; for `hybrid` the text stands in for all three of its signals."""
        spec = get_model(model)
        if "text" not in spec.queries:
            raise ValueError(
                f"{model!r} cannot be searched by text; use {models_answering('text')}"
            )
        if spec.name == "clip":
            return templated_vectors(self.encode_texts, texts, CLIP_QUERY_TEMPLATES)
        vectors = self.encode_texts(texts)
        if spec.input == "hybrid":
            return hybrid_vectors(self._hybrid, vectors, vectors, vectors)
        return vectors

    def encode_product(
        self, model: str, image: Image.Image | None, text: str, category: str
    ) -> Vector | None:
        """One catalogue product's vector for `model` as the batch path computes it: text
        models read its text, image models its image, `hybrid` both with its category; None
        when an image model has no image to read."""
        kind = get_model(model).input
        if kind == "text":
            return self.encode_texts([text])[0]
        if image is None:
            return None
        if kind == "hybrid":
            return self.encode_images(model, [image], [text], [category])[0]
        return self.encode_images(model, [image])[0]

    def encode_images(
        self,
        model: str,
        images: Sequence[Image.Image],
        texts: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
    ) -> Vectors:
        """Vectors of uploaded images for an image model (`resnet`, `efficientnet`, `clip`, `hybrid`).

        For `hybrid`, `texts` and `categories` give each image's product text and category; when
        they are missing the category is predicted zero-shot among `category_names` and its prompt
        stands in for the text.
        """
        spec = get_model(model)
        if spec.input == "text":
            raise ValueError(f"{model!r} embeds texts; use encode_texts")
        pixels = normalised_pixels(images)
        loaded = self._loader.get(spec.network)  # type: ignore[arg-type]
        encoder = self._loader.text() if spec.input == "hybrid" else None
        with self._lock:
            vectors = encode_pixels(loaded, pixels)
            if encoder is None:
                return vectors
            if categories is None:
                categories = self._predict_categories(encoder, vectors)
            if texts is None:
                texts = [category_prompt(c) for c in categories]
            return hybrid_vectors(
                self._hybrid,
                vectors,
                encoder.encode(texts),
                category_vectors(encoder, list(categories)),
            )

    def _predict_categories(self, encoder: TextEncoder, image_vectors: Vectors) -> list[str]:
        if not self._category_names:
            raise ValueError("hybrid needs texts and categories, or Encoders(category_names=...)")
        prompts = encoder.encode([category_prompt(n) for n in self._category_names])
        return [self._category_names[i] for i in (image_vectors @ prompts.T).argmax(axis=1)]
