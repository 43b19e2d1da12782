"""LiT-style training of CLIP's image tower into the pretrained text encoder's space.

The text side is locked (LiT, Zhai et al. 2022): the pretrained encoder's caption vectors are
computed once and the image tower learns to land next to its own product's captions. Locking
the text side is what keeps text search as good as the language model.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from torch import nn

from embed.augment import random_flip, random_resized_crop
from embed.networks import DEFAULT_CLIP, IMAGE_MEAN, IMAGE_STD, ClipConfig, build_clip
from embed.networks import normalise_channels as normalise
from embed.text import training_captions
from embed.text_encoder import TextEncoder
from embed.training import (
    Budget,
    TrainRun,
    bf16_forward,
    channels_last,
    cosine_lr,
    run_steps,
    set_lr,
)
from embed.trainset import TrainSet

# Which caption a row is matched with at each step: product text, name, short phrase.
CAPTION_MIX = (0.5, 0.25, 0.25)


@dataclass(frozen=True)
class ClipTraining:
    """Optimisation settings for CLIP's image tower."""

    steps: int = 100_000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: float = 0.05
    crop_scale: tuple[float, float] = (0.7, 1.0)
    seed: int = 0


@dataclass
class CaptionTargets:
    """Frozen text vectors of each training product's captions (each distinct text once)."""

    vectors: torch.Tensor  # (unique texts, dim)
    text_ids: torch.Tensor  # (products, captions) indexes into `vectors`


def caption_targets(data: TrainSet, encoder: TextEncoder, cache_dir: Path | None) -> CaptionTargets:
    """Encode every distinct caption once (cached on disk by content when `cache_dir` is set)."""
    captions = [training_captions(record, data.schema) for record in data.records]
    unique = sorted({text for row in captions for text in row})
    position = {text: i for i, text in enumerate(unique)}
    text_ids = torch.tensor([[position[t] for t in row] for row in captions])
    key = hashlib.sha256(("\n".join(unique) + encoder.sha256).encode()).hexdigest()[:16]
    cache = cache_dir / f"captions-{key}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        vectors = np.load(cache)
    else:
        print(f"encoding {len(unique)} distinct captions with the text encoder")
        vectors = encoder.encode(unique)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, vectors)
    return CaptionTargets(torch.from_numpy(vectors), text_ids)


def train_clip(
    data: TrainSet,
    targets: CaptionTargets,
    model_config: ClipConfig = DEFAULT_CLIP,
    training: ClipTraining = ClipTraining(),
    max_seconds: float | None = None,
) -> tuple[nn.Module, TrainRun, dict[str, object]]:
    """Train the image tower against the locked text vectors; returns the tower and the run."""
    torch.manual_seed(training.seed)
    generator = torch.Generator().manual_seed(training.seed)
    tower = channels_last(build_clip(model_config)).train()
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    optimizer = torch.optim.AdamW(
        [*tower.parameters(), log_scale], lr=training.lr, weight_decay=training.weight_decay
    )
    batches = data.batches(training.batch_size, generator)
    mix = torch.tensor(CAPTION_MIX)
    # open_clip's loss; a caption text shared by several products in a batch has one vector, so
    # its duplicates are tied (never pushed apart) by the symmetric softmax.
    loss_fn = open_clip.ClipLoss()

    def step(_: int, progress: float) -> float:
        set_lr(optimizer, cosine_lr(progress, training.warmup, training.lr))
        rows = next(batches)
        images = random_resized_crop(
            data.images(rows), model_config.image_size, training.crop_scale, generator
        )
        images = channels_last(normalise(random_flip(images, generator), IMAGE_MEAN, IMAGE_STD))
        kind = torch.multinomial(mix, len(rows), replacement=True, generator=generator)
        text_ids = targets.text_ids[rows, kind]
        with bf16_forward():
            embedded = tower(images)
        features = F.normalize(embedded.float(), dim=-1)
        loss = loss_fn(features, targets.vectors[text_ids], log_scale.exp().clamp(max=100.0))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.item())

    run = run_steps(step, Budget(training.steps, max_seconds), "train clip")
    extra: dict[str, object] = {
        "training": asdict(training),
        "method": "LiT: image tower trained to the locked text encoder's caption vectors",
        "precision": "bfloat16 autocast forward; float32 weights, optimiser and loss",
        "caption_mix": dict(zip(("product_text", "name", "phrase"), CAPTION_MIX, strict=True)),
        "text_encoder": encoder_description(),
    }
    return tower.eval(), run, extra


def encoder_description() -> str:
    """Which pretrained text encoder the image tower is aligned with."""
    from embed.text_encoder import MODEL_NAME, PACKAGE, PACKAGE_VERSION

    return f"{MODEL_NAME} ({PACKAGE}=={PACKAGE_VERSION})"
