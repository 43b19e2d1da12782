"""Inference: uint8 pixels or texts to L2-normalised float32 vectors with a loaded network."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from embed.weights import LoadedNetwork

Vectors = npt.NDArray[np.float32]
TEXT_BATCH = 512


def encode_pixels(loaded: LoadedNetwork, pixels: torch.Tensor) -> Vectors:
    """Vectors of a uint8 (B, H, W, 3) batch of normalised catalogue images."""
    images = loaded.image_input.to_tensor(pixels)
    with torch.inference_mode():
        if loaded.network == "clip":
            features = loaded.module.encode_image(images)  # type: ignore[operator]
        else:
            features = loaded.module(images)
        return F.normalize(features.float(), dim=-1).numpy()


def encode_texts(loaded: LoadedNetwork, texts: Sequence[str]) -> Vectors:
    """CLIP text-tower vectors of `texts`."""
    if loaded.tokenizer is None:
        raise ValueError(f"{loaded.network!r} has no text tower")
    if not texts:
        raise ValueError("no texts to encode")
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), TEXT_BATCH):
            tokens = loaded.tokenizer(list(texts[start : start + TEXT_BATCH]))
            features = loaded.module.encode_text(tokens)  # type: ignore[operator]
            chunks.append(F.normalize(features.float(), dim=-1).numpy())
    return np.concatenate(chunks)


def combine(parts: Sequence[tuple[float, Vectors]]) -> Vectors:
    """L2-normalised weighted sum of row-aligned vector arrays."""
    total = sum(weight * vectors for weight, vectors in parts)
    assert isinstance(total, np.ndarray)
    norms = np.linalg.norm(total, axis=1, keepdims=True)
    return (total / np.maximum(norms, 1e-12)).astype(np.float32)
