"""Architectures of the three networks and how their inputs are prepared."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import open_clip
import timm
import torch
import torch.nn.functional as F
from open_clip.model import CLIPTextCfg, CLIPVisionCfg
from torch import nn

# CLIP's own normalisation; also used for the timm networks trained here from scratch.
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ClipConfig:
    """A small CLIP sized for CPU training on 80 px catalogue photos."""

    embed_dim: int = 256
    image_size: int = 48
    patch_size: int = 8
    vision_width: int = 192
    vision_layers: int = 4
    text_width: int = 128
    text_layers: int = 3
    context_length: int = 32


DEFAULT_CLIP = ClipConfig()


@dataclass(frozen=True)
class TimmConfig:
    """A timm architecture used as a pooled feature extractor."""

    arch: str
    image_size: int = 64


DEFAULT_TIMM = {
    "resnet": TimmConfig("resnet10t", image_size=48),
    "efficientnet": TimmConfig("efficientnet_lite0", image_size=48),
}


@dataclass(frozen=True)
class ImageInput:
    """How uint8 80×80 pixels become a model's input tensor."""

    size: int
    mean: tuple[float, ...] = IMAGE_MEAN
    std: tuple[float, ...] = IMAGE_STD

    def to_tensor(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) pixels to a normalised float (B, 3, size, size) batch."""
        images = pixels.permute(0, 3, 1, 2).float().div_(255.0)
        if images.shape[-1] != self.size or images.shape[-2] != self.size:
            images = F.interpolate(
                images, size=(self.size, self.size), mode="bilinear", antialias=True
            )
        return normalise_channels(images, self.mean, self.std)


def normalise_channels(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """Subtract the channel mean and divide by the channel std of a (B, 3, H, W) batch."""
    shape = (1, 3, 1, 1)
    return (images - torch.tensor(mean).view(shape)) / torch.tensor(std).view(shape)


@dataclass
class ClipBundle:
    """A CLIP model with its tokenizer and image input."""

    model: open_clip.CLIP
    tokenizer: Any
    image_input: ImageInput
    config: dict[str, Any] = field(default_factory=dict)


def build_clip(config: ClipConfig) -> ClipBundle:
    """A randomly initialised small CLIP from `config`."""
    vision = CLIPVisionCfg(
        layers=config.vision_layers,
        width=config.vision_width,
        head_width=64,
        patch_size=config.patch_size,
        image_size=config.image_size,
    )
    text = CLIPTextCfg(
        context_length=config.context_length,
        width=config.text_width,
        heads=max(1, config.text_width // 64),
        layers=config.text_layers,
    )
    model = open_clip.CLIP(embed_dim=config.embed_dim, vision_cfg=vision, text_cfg=text)
    tokenizer = open_clip.get_tokenizer("ViT-B-32", context_length=config.context_length)
    return ClipBundle(model, tokenizer, ImageInput(config.image_size), asdict(config))


def build_hub_clip(tag: str) -> ClipBundle:
    """A CLIP from an open_clip hub tag `<model>:<pretrained>`, e.g. `ViT-B-32:openai`."""
    model_name, _, pretrained = tag.partition(":")
    model = open_clip.create_model(model_name, pretrained=pretrained or None)
    assert isinstance(model, open_clip.CLIP | open_clip.CustomTextCLIP)
    cfg = model.visual.preprocess_cfg
    size = model.visual.image_size
    side = size[0] if isinstance(size, tuple | list) else int(size)
    image_input = ImageInput(side, tuple(cfg["mean"]), tuple(cfg["std"]))
    return ClipBundle(model, open_clip.get_tokenizer(model_name), image_input, {"hub": tag})


def build_timm(arch: str, pretrained: bool = False) -> nn.Module:
    """A timm network returning pooled features (`num_classes=0`)."""
    return timm.create_model(arch, pretrained=pretrained, num_classes=0)
