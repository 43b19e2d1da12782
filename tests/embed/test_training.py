"""The training loops lower their loss within a few steps (tiny networks, a fixed small set)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from embed.catalog import open_catalog
from embed.networks import DEFAULT_TIMM, ClipConfig, TimmConfig
from embed.text_encoder import TextEncoder
from embed.train_clip import ClipTraining, caption_targets, train_clip
from embed.train_distill import DistillTraining, train_distilled
from embed.train_ssl import SslTraining, nt_xent, train_ssl
from embed.training import Budget, TrainRun, cosine_lr, save_trained
from embed.trainset import TrainSet
from embed.weights import WeightsSource, load_network
from lookalike.settings import Settings

TINY_CLIP = ClipConfig(image_size=32, patch_size=8, vision_width=64, vision_layers=1)


def _tiny_set(settings: Settings, n: int = 32) -> TrainSet:
    catalog = open_catalog(settings.catalog_dir)
    products = catalog.with_images().head(n)
    return TrainSet(torch.from_numpy(catalog.pixels_of(products)), products.to_dict("records"))


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
