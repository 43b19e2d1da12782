"""PCA whitening of a visual backbone's features, fitted on the training images (no labels).

Self-supervised features spend most of their variance on a few directions (lighting, background,
pose), so cosine neighbours are decided by them. Whitening — centring and scaling every
principal direction to unit variance — lets the finer directions count as much. Chosen on the
validation split: ResNet P@5 0.683 → 0.732 with a shrinkage of 1 % of the mean eigenvalue
(0.730 without, 0.726 at 10 %), the full 512 dimensions kept (0.725 at 256).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class WhiteningFit:
    """How the whitening is estimated: eigenvalues are shrunk by `shrinkage` × their mean."""

    shrinkage: float = 0.01


class Whitened(nn.Module):
    """A backbone whose unit-length features are centred and whitened: (f/‖f‖ − μ) P."""

    mean: torch.Tensor
    projection: torch.Tensor

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_features = cast(int, backbone.num_features)
        self.register_buffer("mean", torch.zeros(self.num_features))
        self.register_buffer("projection", torch.eye(self.num_features))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Whitened features of a normalised image batch."""
        features = F.normalize(self.backbone(images).float(), dim=-1)
        return (features - self.mean) @ self.projection


def whitening_of(features: np.ndarray, fit: WhiteningFit) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and projection whitening (N, D) unit `features`, shrunk towards isotropy."""
    data = features.astype(np.float64)
    mean = data.mean(axis=0)
    centred = data - mean
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(centred))
    scale = (eigenvalues + fit.shrinkage * eigenvalues.mean()) ** -0.5
    projection = eigenvectors * scale
    return torch.from_numpy(mean).float(), torch.from_numpy(projection).float()


def fit_whitened(
    backbone: nn.Module, batches: Iterable[torch.Tensor], fit: WhiteningFit = WhiteningFit()
) -> tuple[Whitened, dict[str, object]]:
    """`backbone` wrapped in a whitening fitted on its features of the given input batches."""
    backbone = backbone.eval()
    with torch.inference_mode():
        features = torch.cat([F.normalize(backbone(b).float(), dim=-1) for b in batches])
    mean, projection = whitening_of(features.numpy(), fit)
    whitened = Whitened(backbone)
    whitened.mean.copy_(mean)
    whitened.projection.copy_(projection)
    return whitened.eval(), {**asdict(fit), "fitted_on_images": len(features)}


def unwhitened(module: nn.Module) -> nn.Module:
    """The backbone inside a whitened network (the network itself if it has none)."""
    return module.backbone if isinstance(module, Whitened) else module
