"""The embedding models, by the name used everywhere (CLI, store collections, API `model=`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.errors import UnknownModelError

Network = Literal["clip", "resnet", "efficientnet"]
# The pretrained text encoder is not trained here, so it is not a `Network`.
TEXT = "text"
Input = Literal["image", "text", "hybrid"]
# What a model answers: a catalogue product (`/recommend`), an uploaded photo or a text (`/search`).
Query = Literal["product", "photo", "text"]


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model: which trained network it uses, what it reads, its dimension, what
    the API says of it (`description`, `GET /models`) and the queries it answers."""

    name: str
    network: Network | Literal["text"]
    input: Input
    dim: int
    description: str
    queries: tuple[Query, ...]


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "resnet",
            "resnet",
            "image",
            512,
            "Visual only (ResNet): shape and texture look-alikes, blind to category labels.",
            ("product", "photo"),
        ),
        ModelSpec(
            "efficientnet",
            "efficientnet",
            "image",
            1280,
            "Visual only (EfficientNet): a second visual opinion, often more diverse.",
            ("product", "photo"),
        ),
        ModelSpec(
            "clip",
            "clip",
            "image",
            384,
            "Exploratory (CLIP image, in the text space): visual + semantic neighbours, "
            "crosses categories; text searches it.",
            ("product", "photo", "text"),
        ),
        ModelSpec(
            "clip_text",
            "text",
            "text",
            384,
            "Text (pretrained MiniLM): products whose descriptions mean alike.",
            ("text",),
        ),
        ModelSpec(
            "hybrid",
            "clip",
            "hybrid",
            1152,
            "Business-controlled (image + text + category): stays within the category.",
            ("product", "text"),
        ),
    )
}
NETWORKS: tuple[Network, ...] = ("clip", "resnet", "efficientnet")


def models_answering(query: Query) -> tuple[str, ...]:
    """The models that answer a kind of query, in registry order."""
    return tuple(name for name, spec in MODELS.items() if query in spec.queries)


def get_model(name: str) -> ModelSpec:
    """The spec of a registered model, or a clear error listing the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; choose one of {', '.join(MODELS)}"
        ) from None
