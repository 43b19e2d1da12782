"""`lookalike train`: train the networks on the catalogue, one at a time, and save them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.registry import Network
from core.settings import Settings
from embed.catalog import CatalogueSnapshot, open_catalog
from embed.errors import UnknownModelError
from embed.evaluate import (
    CHUNK,
    MIN_HELD_OUT_ITEMS,
    encode_catalog_pixels,
    held_out_prompt_retrieval,
    precision_at_k,
)
from embed.networks import DEFAULT_TIMM, ImageInput
from embed.split import Split, load_or_make_split, load_or_make_validation
from embed.text_encoder import TextEncoder
from embed.train_clip import ClipTraining, caption_targets, train_clip
from embed.training import save_trained
from embed.trainset import TrainSet, training_set
from embed.weights import CATALOG, WEIGHTS_DIR, checkpoint_path, load_network, save_checkpoint
from embed.whitening import fit_whitened, unwhitened

VALIDATION_QUERIES = 1000
# Networks taught by a trained visual teacher rather than by SimCLR: chosen on validation P@5
# (EfficientNet-Lite0's SimCLR step costs 1.6 s here, so 45 minutes left it far behind ResNet).
DISTILLED: frozenset[Network] = frozenset({"efficientnet"})


def train_networks(
    settings: Settings,
    networks: Sequence[Network],
    weights_dir: Path = WEIGHTS_DIR,
    max_minutes: float | None = 30.0,
    steps: int | None = None,
) -> list[dict[str, Any]]:
    """Train each network on products in neither the test nor the validation split.

    Each run is bounded by `max_minutes` and `steps` (whichever ends first); `steps` alone
    reproduces a run exactly. The manifest records validation figures, never test ones.
    """
    catalog, test, validation, data = _training_data(settings, weights_dir)
    common = {
        "catalog_hash": catalog.hash,
        "split_seed": test.seed,
        "held_out": len(test.held_out),
        "validation": len(validation.held_out),
        "train_products": len(data),
    }
    max_seconds = max_minutes * 60 if max_minutes else None
    manifests = []
    for network in networks:
        print(f"training {network} on {len(data)} products")
        module, config, run, extra = _train_one(network, data, settings, max_seconds, steps)
        save_trained(network, module, config, run, weights_dir, {**common, **extra})
        manifest = _add_validation(network, catalog, test, validation, weights_dir)
        print(
            f"{network}: final loss {manifest['final_loss']} after {manifest['steps_run']} steps "
            f"in {manifest['train_seconds']} s, {manifest['size_bytes'] / 1e6:.1f} MB, "
            f"validation P@5 {manifest['validation_p_at_5']}"
        )
        manifests.append(manifest)
    return manifests


def refit_whitening(
    settings: Settings, networks: Sequence[Network], weights_dir: Path = WEIGHTS_DIR
) -> list[dict[str, Any]]:
    """Fit the whitening of already trained visual backbones again, without training them.

    What `lookalike train` ends with, on its own: after the catalogue's training products
    changed, or for a backbone trained before whitening existed.
    """
    if "clip" in networks:
        raise UnknownModelError(
            "--whiten-only applies to resnet and efficientnet: clip has no whitening (its vectors "
            "live in the text encoder's space)"
        )
    catalog, test, validation, data = _training_data(settings, weights_dir)
    manifests = []
    for network in networks:
        loaded = load_network(network, CATALOG, weights_dir)
        module, config, whitening = _whiten(network, unwhitened(loaded.module), loaded.config, data)
        path = checkpoint_path(network, weights_dir)
        manifest: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
        manifest.update(config=config, whitening=whitening)
        manifest["sha256"] = save_checkpoint(module, path, network, config)
        manifest["size_bytes"] = path.stat().st_size
        path.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
        manifests.append(_add_validation(network, catalog, test, validation, weights_dir))
        print(f"{network}: whitened, validation P@5 {manifests[-1]['validation_p_at_5']}")
    return manifests


def _training_data(
    settings: Settings, weights_dir: Path
) -> tuple[CatalogueSnapshot, Split, Split, TrainSet]:
    """The catalogue, its test and validation splits, and the products training may use."""
    torch.set_num_threads(2)
    catalog = open_catalog(settings.catalog_dir)
    category = catalog.schema.category
    test = load_or_make_split(catalog.products, category, weights_dir / "split.json")
    validation = load_or_make_validation(
        catalog.products, category, test, weights_dir / "validation.json"
    )
    return catalog, test, validation, training_set(catalog, test, validation)


def _whiten(
    network: Network, backbone: nn.Module, config: dict[str, Any], data: TrainSet
) -> tuple[nn.Module, dict[str, Any], dict[str, object]]:
    """The backbone behind a whitening fitted on the training images, as `lookalike embed` sees them."""
    image_input = ImageInput(config.get("image_size", DEFAULT_TIMM[network].image_size))
    batches = (
        image_input.to_tensor(data.pixels[start : start + CHUNK])
        for start in range(0, len(data), CHUNK)
    )
    module, whitening = fit_whitened(backbone, batches)
    return module, {**config, "whitened": True}, whitening


def validation_precision(
    network: Network, catalog: CatalogueSnapshot, test: Split, validation: Split, weights_dir: Path
) -> float:
    """P@5 (same category) of validation queries against every non-test product image."""
    loaded = load_network(network, CATALOG, weights_dir)
    products = catalog.with_images()
    corpus = products[~test.is_held_out(products["id"])]
    vectors = encode_catalog_pixels(loaded, catalog, corpus)
    ids = corpus["id"].to_numpy(dtype=np.int64)
    eligible = np.flatnonzero(validation.is_held_out(corpus["id"]).to_numpy())
    rng = np.random.default_rng(validation.seed)
    queries = np.sort(rng.permutation(eligible)[:VALIDATION_QUERIES])
    categories = corpus[catalog.schema.category].fillna("").tolist()
    labels = dict(zip(ids.tolist(), categories, strict=True))
    return precision_at_k(vectors[queries], ids[queries], vectors, ids, labels)


def _add_validation(
    network: Network, catalog: CatalogueSnapshot, test: Split, validation: Split, weights_dir: Path
) -> dict[str, Any]:
    path = checkpoint_path(network, weights_dir).with_suffix(".json")
    manifest: dict[str, Any] = json.loads(path.read_text())
    p_at_5 = validation_precision(network, catalog, test, validation, weights_dir)
    manifest["validation_p_at_5"] = round(p_at_5, 4)
    if network == "clip":
        clip = load_network("clip", CATALOG, weights_dir)
        result = held_out_prompt_retrieval(clip, TextEncoder.load(), catalog, validation)
        manifest["validation_prompt_top1"] = {
            "fraction": round(result.fraction, 4),
            "min_items": MIN_HELD_OUT_ITEMS,
            "hits": result.hits,
        }
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _train_one(
    network: Network,
    data: TrainSet,
    settings: Settings,
    max_seconds: float | None,
    steps: int | None,
) -> tuple[torch.nn.Module, dict[str, Any], Any, dict[str, Any]]:
    if network == "clip":
        from dataclasses import asdict, replace

        from embed.networks import DEFAULT_CLIP

        targets = caption_targets(data, TextEncoder.load(), settings.data_dir / "cache")
        training = replace(ClipTraining(), steps=steps) if steps else ClipTraining()
        tower, run, extra = train_clip(data, targets, DEFAULT_CLIP, training, max_seconds)
        return tower, asdict(DEFAULT_CLIP), run, extra
    if network in DISTILLED:
        from embed.train_distill import train_distilled

        backbone, config, run, extra = train_distilled(
            network, data, max_seconds=max_seconds, steps=steps
        )
    else:
        from embed.train_ssl import train_ssl

        backbone, config, run, extra = train_ssl(
            network, data, max_seconds=max_seconds, steps=steps
        )
    module, config, whitening = _whiten(network, backbone, config, data)
    return module, config, run, {**extra, "whitening": whitening}
