"""Weights from three sources behind one spec: a hub tag, a local file, or `catalog` (trained here)."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from core.hashing import sha256_file
from core.registry import Network
from embed.errors import WeightsCorruptError, WeightsMissingError
from embed.networks import (
    DEFAULT_TIMM,
    ClipConfig,
    ImageInput,
    TimmConfig,
    build_clip,
    build_timm,
)
from embed.sources import CATALOG, WeightsSource
from embed.whitening import Whitened

WEIGHTS_DIR = Path(__file__).parent / "weights"
HUB_EXAMPLES: dict[Network, str] = {
    "resnet": "hub:resnet18.a1_in1k",
    "efficientnet": "hub:efficientnet_b0.ra_in1k",
}


def checkpoint_path(network: Network, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Where `lookalike train` writes (and `catalog` reads) a network's weights."""
    return weights_dir / f"{network}.safetensors"


def missing_weights_message(network: Network, detail: str) -> str:
    """Why weights are missing plus the ways to provide them."""
    hub = (
        f"a hub tag, e.g. --weights {network}={HUB_EXAMPLES[network]} (needs network access); "
        if network in HUB_EXAMPLES
        else ""
    )
    return (
        f"no weights for {network!r}: {detail}. Provide them as {hub}"
        f"a local weights file, e.g. --weights {network}=/path/to/{network}.safetensors; "
        f"or train on the catalogue: `lookalike train --models {network}` "
        f"(writes {checkpoint_path(network)})"
    )


def save_checkpoint(module: nn.Module, path: Path, network: Network, config: dict[str, Any]) -> str:
    """Write a module's weights as fp16 safetensors with its config; returns the file's SHA-256."""
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in module.state_dict().items()}
    metadata = {"network": network, "config": json.dumps(config, sort_keys=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata=metadata)
    return sha256_file(path)


def read_checkpoint(path: Path, network: Network) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The fp32 state dict and saved config of a weights file; unpickles nothing untrusted."""
    if not path.is_file():
        raise WeightsMissingError(missing_weights_message(network, f"file {path} does not exist"))
    try:
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as handle:
                metadata = handle.metadata() or {}
            state = load_file(str(path))
        else:
            metadata = {}
            loaded = torch.load(path, map_location="cpu", weights_only=True)
            state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise ValueError("the file holds no tensor state dict")
        config = json.loads(metadata.get("config", "{}"))
    except (
        SafetensorError,
        pickle.UnpicklingError,
        OSError,
        RuntimeError,
        ValueError,
        KeyError,
        EOFError,
    ) as exc:
        raise WeightsCorruptError(
            f"{path} is not a usable weights file for {network!r} ({exc}); replace it, or rebuild "
            f"it with `lookalike train --models {network}`"
        ) from exc
    saved_network = metadata.get("network", network)
    if saved_network != network:
        raise WeightsCorruptError(f"{path} holds {saved_network!r} weights, not {network!r}")
    return {k: v.float() for k, v in state.items()}, config


@dataclass
class LoadedNetwork:
    """A network ready for inference, with where its weights came from."""

    network: Network
    module: nn.Module
    image_input: ImageInput
    source: WeightsSource
    sha256: str | None
    config: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """The manifest entry for these weights."""
        return {"source": self.source.kind, "ref": self.source.ref, "sha256": self.sha256}


def _build_local(network: Network, config: dict[str, Any]) -> tuple[nn.Module, ImageInput]:
    if network == "clip":
        clip_config = ClipConfig(**config) if config else ClipConfig()
        return build_clip(clip_config), ImageInput(clip_config.image_size)
    timm_config = TimmConfig(**config) if config else DEFAULT_TIMM[network]
    backbone = build_timm(timm_config.arch)
    module = Whitened(backbone) if timm_config.whitened else backbone
    return module, ImageInput(timm_config.image_size)


def _load_file(network: Network, path: Path, source: WeightsSource) -> LoadedNetwork:
    state, config = read_checkpoint(path, network)
    try:
        module, image_input = _build_local(network, config)
        module.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        raise WeightsCorruptError(
            f"{path} does not match the {network!r} architecture ({str(exc)[:300]}); use weights "
            f"written by `lookalike train --models {network}`"
        ) from exc
    return LoadedNetwork(network, module.eval(), image_input, source, sha256_file(path), config)


def _load_hub(network: Network, source: WeightsSource) -> LoadedNetwork:
    if network not in HUB_EXAMPLES:
        raise WeightsMissingError(
            f"{network!r} has no hub weights: its image tower is trained into the packaged text "
            f"encoder's space; use `catalog` or a file written by `lookalike train`"
        )
    try:
        module = timm.create_model(source.ref, pretrained=True, num_classes=0)
        data = timm.data.resolve_data_config({}, model=module)
        image_input = ImageInput(data["input_size"][-1], data["mean"], data["std"])
    except Exception as exc:  # hub libraries raise many kinds: network, unknown tag, HTTP
        raise WeightsMissingError(
            missing_weights_message(network, f"hub tag {source.ref!r} failed ({exc})")
        ) from exc
    return LoadedNetwork(network, module.eval(), image_input, source, None, {})


def load_network(
    network: Network, source: WeightsSource = CATALOG, weights_dir: Path = WEIGHTS_DIR
) -> LoadedNetwork:
    """Build a network and load its weights from `source`."""
    if source.kind == "hub":
        return _load_hub(network, source)
    if source.kind == "file":
        return _load_file(network, Path(source.ref), source)
    path = checkpoint_path(network, weights_dir)
    if not path.is_file():
        raise WeightsMissingError(missing_weights_message(network, f"no trained weights at {path}"))
    return _load_file(network, path, source)
