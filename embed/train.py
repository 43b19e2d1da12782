"""`lookalike train`: train the networks on the catalogue, one at a time, and save them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from embed.catalog import Catalog, open_catalog
from embed.evaluate import MIN_HELD_OUT_ITEMS, held_out_prompt_retrieval
from embed.networks import ClipConfig
from embed.registry import Network
from embed.split import Split, load_or_make_split
from embed.train_clip import RESUME_TRAINING, train_clip
from embed.training import TrainRun, save_trained
from embed.trainset import TrainSet, training_set
from embed.weights import CATALOG, WEIGHTS_DIR, checkpoint_path, load_network, read_checkpoint
from lookalike.settings import Settings


def train_networks(
    settings: Settings,
    networks: Sequence[Network],
    weights_dir: Path = WEIGHTS_DIR,
    max_minutes: float = 30.0,
    resume: bool = False,
) -> list[dict[str, Any]]:
    """Train each network on the non-held-out products; returns their manifests.

    With `resume`, CLIP continues from its saved catalogue weights (recorded in the manifest).
    """
    torch.set_num_threads(2)
    catalog = open_catalog(settings.catalog_dir)
    split = load_or_make_split(catalog.products, weights_dir / "split.json")
    data = training_set(catalog, split)
    common = {
        "catalog_hash": catalog.hash,
        "split_seed": split.seed,
        "held_out": len(split.held_out),
        "train_products": len(data),
    }
    manifests = []
    for network in networks:
        print(f"training {network} on {len(data)} products ({len(split.held_out)} held out)")
        if network == "clip" and resume:
            module, config, run, extra = _resume_clip(data, weights_dir, max_minutes * 60)
        else:
            module, config, run, extra = _train_one(network, data, max_minutes * 60)
        manifest = save_trained(network, module, config, run, weights_dir, {**common, **extra})
        if network == "clip":
            manifest = evaluate_trained_clip(catalog, split, weights_dir)
        print(
            f"{network}: final loss {manifest['final_loss']} after {manifest['steps_run']} steps "
            f"in {manifest['train_seconds']} s, {manifest['size_bytes'] / 1e6:.1f} MB"
        )
        manifests.append(manifest)
    return manifests


def evaluate_trained_clip(catalog: Catalog, split: Split, weights_dir: Path) -> dict[str, Any]:
    """Add the held-out prompt-retrieval figure to the CLIP manifest; returns the manifest."""
    clip = load_network("clip", CATALOG, weights_dir)
    result = held_out_prompt_retrieval(clip, catalog, split)
    print(f"clip: held-out prompt top-1 {result.fraction:.3f} over {len(result.hits)} articleTypes")
    path = checkpoint_path("clip", weights_dir).with_suffix(".json")
    manifest: dict[str, Any] = json.loads(path.read_text())
    manifest["held_out_prompt_top1"] = {
        "fraction": round(result.fraction, 4),
        "min_items": MIN_HELD_OUT_ITEMS,
        "hits": result.hits,
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _resume_clip(
    data: TrainSet, weights_dir: Path, max_seconds: float
) -> tuple[torch.nn.Module, dict[str, Any], TrainRun, dict[str, Any]]:
    path = checkpoint_path("clip", weights_dir)
    state, config = read_checkpoint(path, "clip")
    previous = json.loads(path.with_suffix(".json").read_text())
    bundle, run, extra = train_clip(
        data, ClipConfig(**config), RESUME_TRAINING, max_seconds, initial_state=state
    )
    kept = ("sha256", "steps_run", "final_loss", "train_seconds", "training", "resumed_from")
    extra["resumed_from"] = {key: previous[key] for key in kept if key in previous}
    return bundle.model, bundle.config, run, extra


def _train_one(
    network: Network, data: TrainSet, max_seconds: float
) -> tuple[torch.nn.Module, dict[str, Any], Any, dict[str, Any]]:
    if network == "clip":
        bundle, run, extra = train_clip(data, max_seconds=max_seconds)
        return bundle.model, bundle.config, run, extra
    from embed.train_ssl import train_ssl

    backbone, config, run, extra = train_ssl(network, data, max_seconds=max_seconds)
    return backbone, config, run, extra
