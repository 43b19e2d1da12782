"""Self-supervised distillation (SEED-style): a visual student learns a visual teacher's view.

No labels and no text: the teacher is another purely visual network trained by SimCLR on the
same images, and the student is asked to place every augmented view where the teacher places
it. One forward and backward pass of one view per image (SimCLR needs two views and a large
batch), so a slow network gets far more out of the same minutes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from core.registry import Network
from embed.networks import DEFAULT_TIMM
from embed.train_ssl import SslTraining, augmented_view, headed_backbone
from embed.training import Budget, TrainRun, channels_last, cosine_lr, run_steps, set_lr
from embed.trainset import TrainSet
from embed.weights import CATALOG, load_network


@dataclass(frozen=True)
class DistillTraining:
    """Optimisation and augmentation settings for distillation from a visual teacher."""

    teacher: Network = "resnet"
    steps: int = 100_000
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: float = 0.05
    views: SslTraining = field(default_factory=SslTraining)  # SimCLR's crop, flip, jitter, grey
    seed: int = 0


def cosine_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean 1 − cos between each student vector and its teacher vector."""
    return 1 - F.cosine_similarity(student, teacher, dim=1).mean()


def train_distilled(
    network: Network,
    data: TrainSet,
    training: DistillTraining = DistillTraining(),
    max_seconds: float | None = None,
    steps: int | None = None,
) -> tuple[nn.Module, dict[str, object], TrainRun, dict[str, object]]:
    """Train a timm backbone to match the committed teacher's vectors of the same views."""
    config = DEFAULT_TIMM[network]
    training = replace(training, steps=steps) if steps else training
    torch.manual_seed(training.seed)
    generator = torch.Generator().manual_seed(training.seed)
    teacher = load_network(training.teacher, CATALOG)
    teacher_module = channels_last(teacher.module.eval())
    backbone, model, optimizer = headed_backbone(
        config.arch, cast(int, teacher_module.num_features), training.lr, training.weight_decay
    )
    batches = data.batches(training.batch_size, generator)

    def step(_: int, progress: float) -> float:
        set_lr(optimizer, cosine_lr(progress, training.warmup, training.lr))
        images = data.images(next(batches))
        view = augmented_view(images, config.image_size, training.views, generator)
        with torch.no_grad():
            target = teacher_module(view)
        loss = cosine_distance(model(view), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.item())

    run = run_steps(step, Budget(training.steps, max_seconds), f"distil {network}")
    extra: dict[str, object] = {
        "training": asdict(training),
        "method": f"distillation from the SimCLR-trained {training.teacher} (images only)",
        "teacher_sha256": teacher.sha256,
    }
    return backbone.eval(), asdict(config), run, extra
