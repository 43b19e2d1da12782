"""Inference: uint8 pixels to L2-normalised float32 vectors with a loaded network."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from embed.weights import LoadedNetwork

Vectors = npt.NDArray[np.float32]


def encode_pixels(loaded: LoadedNetwork, pixels: torch.Tensor) -> Vectors:
    """Vectors of a uint8 (B, H, W, 3) batch of normalised catalogue images."""
    images = loaded.image_input.to_tensor(pixels)
    with torch.inference_mode():
        features = loaded.module(images)
        return F.normalize(features.float(), dim=-1).numpy()


def concatenate_weighted(parts: Sequence[tuple[float, Vectors]]) -> Vectors:
    """Row-aligned unit vectors joined as [√w₁·a, √w₂·b, …] / √Σw: unit vectors whose inner
    product is the weighted mean of the parts' cosines."""
    total = sum(weight for weight, _ in parts)
    joined = np.concatenate(
        [np.sqrt(weight / total) * vectors for weight, vectors in parts], axis=1
    )
    return joined.astype(np.float32)
