"""The training loops lower their loss within a few steps (tiny networks, a fixed small set)."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.settings import Settings
from embed.catalog import open_catalog
from embed.errors import UnknownModelError
from embed.networks import DEFAULT_TIMM, ClipConfig, ImageInput, TimmConfig, build_timm
from embed.text_encoder import TextEncoder
from embed.train import refit_whitening
from embed.train_clip import ClipTraining, caption_targets, train_clip
from embed.train_distill import DistillTraining, train_distilled
from embed.train_ssl import SslTraining, nt_xent, train_ssl
from embed.training import Budget, TrainRun, cosine_lr, save_trained
from embed.trainset import TrainSet
from embed.weights import WeightsSource, load_network, save_checkpoint
from embed.whitening import Whitened, WhiteningFit, fit_whitened, unwhitened, whitening_of

TINY_CLIP = ClipConfig(image_size=32, patch_size=8, vision_width=64, vision_layers=1)


def _tiny_set(settings: Settings, n: int = 32) -> TrainSet:
    catalog = open_catalog(settings.catalog_dir)
    products = catalog.with_images().head(n)
    return TrainSet(
        torch.from_numpy(catalog.pixels_of(products)),
        products.to_dict("records"),
        catalog.schema,
    )


def _improved(run: TrainRun) -> bool:
    return sum(run.losses[-3:]) / 3 < sum(run.losses[:3]) / 3


def test_clip_training_lowers_the_loss(settings: Settings, text_encoder: TextEncoder) -> None:
    data = _tiny_set(settings)
    training = ClipTraining(steps=25, batch_size=32, lr=2e-3, warmup=0.05)
    _, run, _ = train_clip(data, caption_targets(data, text_encoder, None), TINY_CLIP, training)
    assert len(run.losses) == 25 and _improved(run)


def test_the_schedule_completes_within_a_time_budget() -> None:
    budget = Budget(steps=1000, seconds=10.0)
    assert budget.progress(100, 5.0) == 0.5 and budget.progress(900, 1.0) == 0.9
    assert cosine_lr(0.0, 0.05, 1.0) > 0 and cosine_lr(0.05, 0.05, 1.0) == pytest.approx(1.0)
    assert cosine_lr(1.0, 0.05, 1.0) == pytest.approx(0.0)


def test_ssl_training_lowers_the_loss(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEFAULT_TIMM, "resnet", TimmConfig("resnet10t", 32))
    training = SslTraining(steps=20, batch_size=16, lr=2e-3, warmup=0.05, crop_scale=(0.8, 1.0))
    _, _, run, _ = train_ssl("resnet", _tiny_set(settings, 16), training)
    assert _improved(run)


def test_distillation_moves_the_student_to_the_committed_visual_teacher(
    settings: Settings,
) -> None:
    views = SslTraining(crop_scale=(0.8, 1.0))
    training = DistillTraining(steps=20, batch_size=16, lr=2e-3, warmup=0.05, views=views)
    _, _, run, extra = train_distilled("efficientnet", _tiny_set(settings, 16), training)
    assert _improved(run)
    assert "images only" in str(extra["method"]) and extra["teacher_sha256"]


def test_nt_xent_prefers_matching_views() -> None:
    views = torch.randn(8, 16)
    assert nt_xent(views, views, 0.1) < nt_xent(views, torch.randn(8, 16), 0.1)


def test_saved_training_leaves_weights_curve_and_manifest(
    settings: Settings, text_encoder: TextEncoder, tmp_path: Path
) -> None:
    data = _tiny_set(settings)
    tower, run, extra = train_clip(
        data,
        caption_targets(data, text_encoder, None),
        TINY_CLIP,
        ClipTraining(steps=3, batch_size=16),
    )
    config = asdict(TINY_CLIP)
    manifest = save_trained("clip", tower, config, run, tmp_path, extra)
    assert (tmp_path / "clip.loss.png").is_file()
    assert json.loads((tmp_path / "clip.json").read_text()) == json.loads(json.dumps(manifest))
    loaded = load_network("clip", WeightsSource("file", str(tmp_path / "clip.safetensors")))
    assert loaded.config == config and loaded.sha256 == manifest["sha256"]


def test_whitening_centres_and_decorrelates_the_fitted_features() -> None:
    mixing = torch.randn(8, 8)
    features = (torch.randn(4000, 8) @ mixing).numpy()
    mean, projection = whitening_of(features, WhiteningFit(shrinkage=0.0))
    white = (features - mean.numpy()) @ projection.numpy()
    assert abs(white.mean(axis=0)).max() < 1e-4
    assert np.allclose(np.cov(white.T, bias=True), np.eye(8), atol=1e-3)


def test_a_whitened_backbone_saves_and_reloads_as_one_network(
    settings: Settings, tmp_path: Path
) -> None:
    data = _tiny_set(settings, 64)
    image_input = ImageInput(32)
    whitened, fit = fit_whitened(build_timm("resnet10t"), [image_input.to_tensor(data.pixels)])
    assert fit["fitted_on_images"] == 64
    config = {"arch": "resnet10t", "image_size": 32, "whitened": True}
    path = tmp_path / "resnet.safetensors"
    save_checkpoint(whitened, path, "resnet", config)
    loaded = load_network("resnet", WeightsSource("file", str(path)))
    assert isinstance(loaded.module, Whitened) and unwhitened(loaded.module) is not loaded.module
    # The file holds fp16 weights: the reloaded network is the fitted one rounded to fp16. (Against
    # the unrounded one the whitening of 64 images in 512 dimensions amplifies the rounding past
    # any fixed tolerance, depending on the random initialisation.)
    rounded = copy.deepcopy(whitened)
    rounded.load_state_dict({k: v.half().float() for k, v in whitened.state_dict().items()})
    pixels = image_input.to_tensor(data.pixels[:8])
    with torch.inference_mode():
        expected = F.normalize(rounded(pixels), dim=1)
        assert torch.allclose(F.normalize(loaded.module(pixels), dim=1), expected, atol=1e-4)


def test_the_committed_visual_networks_are_whitened() -> None:
    for network in ("resnet", "efficientnet"):
        loaded = load_network(network)
        assert isinstance(loaded.module, Whitened) and loaded.config["whitened"] is True


def test_clip_has_no_whitening_to_refit(settings: Settings) -> None:
    with pytest.raises(UnknownModelError, match="clip has no whitening"):
        refit_whitening(settings, ["resnet", "clip"])
