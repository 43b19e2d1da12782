"""Contrastive training of the small CLIP on catalogue image–caption pairs."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import open_clip
import torch

from embed.augment import random_flip, random_resized_crop
from embed.networks import (
    DEFAULT_CLIP,
    IMAGE_MEAN,
    IMAGE_STD,
    ClipBundle,
    ClipConfig,
    build_clip,
    normalise_channels,
)
from embed.text import training_caption
from embed.training import TrainRun, cosine_lr, run_steps, set_lr
from embed.trainset import TrainSet


@dataclass(frozen=True)
class ClipTraining:
    """Optimisation settings for CLIP."""

    steps: int = 700
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup: int = 100
    crop_scale: tuple[float, float] = (0.75, 1.0)
    seed: int = 0


# Continuing from saved weights: short warm-up, then anneal from where the first run left off.
RESUME_TRAINING = ClipTraining(steps=350, lr=4e-4, warmup=10, seed=1)


def train_clip(
    data: TrainSet,
    model_config: ClipConfig = DEFAULT_CLIP,
    training: ClipTraining = ClipTraining(),
    max_seconds: float | None = None,
    initial_state: dict[str, torch.Tensor] | None = None,
) -> tuple[ClipBundle, TrainRun, dict[str, object]]:
    """Train CLIP from scratch, or from `initial_state`; returns the model, run and settings."""
    torch.manual_seed(training.seed)
    generator = torch.Generator().manual_seed(training.seed)
    rng = random.Random(training.seed)
    bundle = build_clip(model_config)
    if initial_state is not None:
        bundle.model.load_state_dict(initial_state)
    model = bundle.model.train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=training.lr, weight_decay=training.weight_decay
    )
    loss_fn = open_clip.ClipLoss()
    batches = data.batches(training.batch_size, generator)

    def step(i: int) -> float:
        set_lr(optimizer, cosine_lr(i, training.steps, training.warmup, training.lr))
        rows = next(batches)
        images = data.images(rows)
        images = random_resized_crop(
            images, model_config.image_size, training.crop_scale, generator
        )
        images = normalise_channels(random_flip(images, generator), IMAGE_MEAN, IMAGE_STD)
        captions = [training_caption(data.records[r], rng) for r in rows.tolist()]
        image_features, text_features, logit_scale = model(images, bundle.tokenizer(captions))
        loss = loss_fn(image_features, text_features, logit_scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, 4.6052)
        return float(loss.item())

    run = run_steps(step, training.steps, "train clip", max_seconds)
    return bundle, run, {"training": asdict(training)}
