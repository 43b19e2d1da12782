"""The shared training loop and the artefacts every trained network leaves behind."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from core.registry import Network
from embed.weights import checkpoint_path, save_checkpoint

Laid = TypeVar("Laid", nn.Module, torch.Tensor)


def channels_last(layout: Laid) -> Laid:
    """A network or image batch in channels-last memory, oneDNN's fast layout on CPU: one
    training step ran 2.2× faster here for EfficientNet-Lite0, 1.4× for CLIP's image tower and
    1.3× for ResNet-10t. Only speed changes; saved weights are written contiguous."""
    return layout.to(memory_format=torch.channels_last)


def bf16_forward() -> torch.autocast:
    """Mixed precision for a training forward pass: bfloat16 matrix products and convolutions,
    float32 weights, optimiser and loss. On this machine's AVX512-BF16 cores one CLIP tower step
    ran 1.6-1.9x faster (0.55 s against 0.86-1.07 s at batch 256). Embedding stays float32."""
    return torch.autocast("cpu", dtype=torch.bfloat16)


@dataclass(frozen=True)
class Budget:
    """How long a run trains: at most `steps` steps and, if set, at most `seconds`.

    The learning-rate schedule follows the progress through whichever runs out first, so a run
    cut by its time budget still warms up and anneals completely (none stops at a high rate).
    """

    steps: int
    seconds: float | None = None

    def progress(self, step: int, elapsed: float) -> float:
        """Fraction of the budget used after `step` steps and `elapsed` seconds."""
        by_time = elapsed / self.seconds if self.seconds else 0.0
        return max(step / self.steps, by_time)


@dataclass
class TrainRun:
    """What one training run did."""

    losses: list[float]
    seconds: float
    stopped_by_time: bool

    @property
    def final_loss(self) -> float:
        """Mean loss over the last 50 steps (less noisy than the last step)."""
        tail = self.losses[-50:]
        return sum(tail) / len(tail)


def cosine_lr(progress: float, warmup: float, base: float) -> float:
    """Linear warm-up over the first `warmup` of progress, then cosine decay to zero."""
    if progress < warmup:
        return base * max(progress, 0.002) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def run_steps(step: Callable[[int, float], float], budget: Budget, desc: str) -> TrainRun:
    """Call `step(i, progress)` until the budget is used up, with a progress bar."""
    losses: list[float] = []
    start = time.monotonic()
    progress = 0.0
    # The bar shows the share of the budget used, whether steps or time bound it.
    with tqdm(total=100, desc=desc, unit="%", mininterval=5.0) as bar:
        while progress < 1.0:
            losses.append(step(len(losses), progress))
            progress = budget.progress(len(losses), time.monotonic() - start)
            bar.update(min(100, int(progress * 100)) - bar.n)
            if len(losses) % 10 == 0:
                bar.set_postfix(step=len(losses), loss=f"{sum(losses[-10:]) / 10:.3f}")
    stopped_by_time = len(losses) < budget.steps
    return TrainRun(losses, time.monotonic() - start, stopped_by_time)


def plot_losses(losses: list[float], path: Path, title: str) -> None:
    """Save the loss curve (raw and smoothed) as a PNG."""
    window = max(1, len(losses) // 50)
    smooth = [
        sum(losses[max(0, i - window) : i + 1]) / (i + 1 - max(0, i - window))
        for i in range(len(losses))
    ]
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(losses, alpha=0.3, label="loss")
    axes.plot(smooth, label=f"mean of {window}")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_trained(
    network: Network,
    module: nn.Module,
    config: dict[str, Any],
    run: TrainRun,
    weights_dir: Path,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Write weights, loss curve and manifest next to each other; returns the manifest."""
    path = checkpoint_path(network, weights_dir)
    sha256 = save_checkpoint(module, path, network, config)
    plot_losses(run.losses, path.with_suffix(".loss.png"), f"{network} training loss")
    manifest = {
        "network": network,
        "config": config,
        "weights": path.name,
        "sha256": sha256,
        "size_bytes": path.stat().st_size,
        "steps_run": len(run.losses),
        "final_loss": round(run.final_loss, 4),
        "first_loss": round(run.losses[0], 4),
        "train_seconds": round(run.seconds, 1),
        "stopped_by_time": run.stopped_by_time,
        **extra,
    }
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
