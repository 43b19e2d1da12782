"""Batched, seeded image augmentations on float (B, 3, H, W) tensors in [0, 1]."""

from __future__ import annotations

import torch
from torchvision.ops import roi_align


def random_resized_crop(
    images: torch.Tensor, size: int, scale: tuple[float, float], generator: torch.Generator
) -> torch.Tensor:
    """Crop a random square covering `scale` of each image and resize it to `size`."""
    batch, _, height, width = images.shape
    area = torch.empty(batch).uniform_(*scale, generator=generator)
    side = area.sqrt() * min(height, width)
    x0 = torch.rand(batch, generator=generator) * (width - side)
    y0 = torch.rand(batch, generator=generator) * (height - side)
    boxes = torch.stack([torch.arange(batch).float(), x0, y0, x0 + side, y0 + side], dim=1)
    return roi_align(images, boxes, output_size=size, sampling_ratio=2, aligned=True)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images horizontally."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)


def colour_jitter(
    images: torch.Tensor, strength: float, generator: torch.Generator
) -> torch.Tensor:
    """Random brightness, contrast and saturation changes of up to ±`strength`."""
    batch = images.shape[0]

    def factors() -> torch.Tensor:
        return 1 + (torch.rand(batch, 1, 1, 1, generator=generator) * 2 - 1) * strength

    images = images * factors()
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * factors() + mean
    grey = images.mean(dim=1, keepdim=True)
    images = (images - grey) * factors() + grey
    return images.clamp(0, 1)


def random_greyscale(images: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Turn a fraction `p` of the images grey."""
    grey = (torch.rand(images.shape[0], generator=generator) < p).view(-1, 1, 1, 1)
    return torch.where(grey, images.mean(dim=1, keepdim=True).expand_as(images), images)
