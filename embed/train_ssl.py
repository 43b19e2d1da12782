"""Self-supervised (SimCLR) training of the purely visual timm networks: images only, no labels."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from core.registry import Network
from embed.augment import colour_jitter, random_flip, random_greyscale, random_resized_crop
from embed.networks import DEFAULT_TIMM, IMAGE_MEAN, IMAGE_STD, build_timm, normalise_channels
from embed.training import Budget, TrainRun, channels_last, cosine_lr, run_steps, set_lr
from embed.trainset import TrainSet


@dataclass(frozen=True)
class SslTraining:
    """Optimisation and augmentation settings for SimCLR."""

    steps: int = 100_000
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: float = 0.05
    temperature: float = 0.2
    crop_scale: tuple[float, float] = (0.35, 1.0)
    jitter: float = 0.3
    greyscale: float = 0.2
    projection_dim: int = 128
    seed: int = 0


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's contrastive loss: each view must pick its partner among all 2B−1 others."""
    z = F.normalize(torch.cat([first, second]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))
    batch = first.shape[0]
    targets = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)])
    return F.cross_entropy(logits, targets)


def projection_head(features: int, out: int) -> nn.Module:
    """The MLP between backbone features and the contrastive loss (discarded after training)."""
    return nn.Sequential(
        nn.Linear(features, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True), nn.Linear(512, out)
    )


def headed_backbone(
    arch: str, out: int, lr: float, weight_decay: float
) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer]:
    """A fresh timm backbone, the backbone behind a projection head (what trains), and AdamW."""
    backbone = build_timm(arch)
    head = projection_head(cast(int, backbone.num_features), out)
    model = channels_last(nn.Sequential(backbone, head)).train()
    return backbone, model, torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def augmented_view(
    images: torch.Tensor, size: int, training: SslTraining, generator: torch.Generator
) -> torch.Tensor:
    """One random view of a batch: crop, flip, colour jitter, sometimes grey; normalised."""
    view = random_resized_crop(images, size, training.crop_scale, generator)
    view = colour_jitter(random_flip(view, generator), training.jitter, generator)
    view = random_greyscale(view, training.greyscale, generator)
    return channels_last(normalise_channels(view, IMAGE_MEAN, IMAGE_STD))


def train_ssl(
    network: Network,
    data: TrainSet,
    training: SslTraining = SslTraining(),
    max_seconds: float | None = None,
    steps: int | None = None,
) -> tuple[nn.Module, dict[str, object], TrainRun, dict[str, object]]:
    """Train a timm backbone with SimCLR on the training images; returns the backbone."""
    config = DEFAULT_TIMM[network]
    training = replace(training, steps=steps) if steps else training
    torch.manual_seed(training.seed)
    generator = torch.Generator().manual_seed(training.seed)
    backbone, model, optimizer = headed_backbone(
        config.arch, training.projection_dim, training.lr, training.weight_decay
    )
    batches = data.batches(training.batch_size, generator)

    def step(_: int, progress: float) -> float:
        set_lr(optimizer, cosine_lr(progress, training.warmup, training.lr))
        images = data.images(next(batches))
        views = [augmented_view(images, config.image_size, training, generator) for _ in range(2)]
        projected = model(torch.cat(views))
        first, second = projected.chunk(2)
        loss = nt_xent(first, second, training.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.item())

    run = run_steps(step, Budget(training.steps, max_seconds), f"train {network}")
    return backbone.eval(), asdict(config), run, {"training": asdict(training), "method": "SimCLR"}
