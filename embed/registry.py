"""The embedding models, by the name used everywhere (CLI, store collections, API `model=`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from embed.errors import UnknownModelError

Network = Literal["clip", "resnet", "efficientnet"]
Input = Literal["image", "text", "hybrid"]


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model: which trained network it uses and what it reads."""

    name: str
    network: Network
    input: Input
    dim: int
    description: str


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("resnet", "resnet", "image", 512, "ResNet-10t pooled features (self-supervised)"),
        ModelSpec(
            "efficientnet",
            "efficientnet",
            "image",
            1280,
            "EfficientNet-Lite0 pooled features (SSL)",
        ),
        ModelSpec("clip", "clip", "image", 256, "CLIP image tower"),
        ModelSpec("clip_text", "clip", "text", 256, "CLIP text tower on the product text"),
        ModelSpec("hybrid", "clip", "hybrid", 256, "CLIP image + product text + category text"),
    )
}
NETWORKS: tuple[Network, ...] = ("clip", "resnet", "efficientnet")


def get_model(name: str) -> ModelSpec:
    """The spec of a registered model, or a clear error listing the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; choose one of {', '.join(MODELS)}"
        ) from None
