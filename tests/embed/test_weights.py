"""The three weights sources and their errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import timm
import torch

from core.hashing import sha256_file
from embed.encoding import encode_pixels
from embed.errors import WeightsCorruptError, WeightsMissingError
from embed.sources import CATALOG, WeightsSource, parse_source
from embed.weights import checkpoint_path, load_network

PIXELS = torch.randint(0, 256, (4, 80, 80, 3), dtype=torch.uint8)


def test_sources_parse() -> None:
    assert parse_source("catalog") == CATALOG
    assert parse_source("hub:ViT-B-32:openai") == WeightsSource("hub", "ViT-B-32:openai")
    assert parse_source("w/clip.safetensors") == WeightsSource("file", "w/clip.safetensors")


@pytest.mark.parametrize("network", ["clip", "resnet"])
def test_weights_file_round_trips_through_the_local_file_source(
    weights_dir: Path, network: Any
) -> None:
    path = checkpoint_path(network, weights_dir)
    from_catalog = load_network(network, CATALOG, weights_dir)
    from_file = load_network(network, WeightsSource("file", str(path)))
    assert from_file.sha256 == from_catalog.sha256 == sha256_file(path)
    np.testing.assert_array_equal(
        encode_pixels(from_file, PIXELS), encode_pixels(from_catalog, PIXELS)
    )


def test_state_dict_pt_file_loads_without_unpickling_code(
    weights_dir: Path, tmp_path: Path
) -> None:
    loaded = load_network("resnet", CATALOG, weights_dir)
    path = tmp_path / "resnet.pt"
    torch.save(loaded.module.state_dict(), path)
    again = load_network("resnet", WeightsSource("file", str(path)))
    np.testing.assert_allclose(
        encode_pixels(again, PIXELS), encode_pixels(loaded, PIXELS), atol=1e-6
    )


def test_missing_weights_name_every_source(tmp_path: Path) -> None:
    with pytest.raises(WeightsMissingError) as error:
        load_network("resnet", CATALOG, tmp_path)
    message = str(error.value)
    assert "hub:resnet18.a1_in1k" in message
    assert "--weights resnet=/path/to/resnet.safetensors" in message
    assert "lookalike train --models resnet" in message


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\x00" * 64])
def test_corrupt_weights_file_gives_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "clip.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsCorruptError, match="not a usable weights file for 'clip'"):
        load_network("clip", WeightsSource("file", str(path)))


def test_pickled_code_is_never_executed(tmp_path: Path) -> None:
    path = tmp_path / "resnet.pt"
    torch.save({"state_dict": Path("not a tensor")}, path)
    with pytest.raises(WeightsCorruptError, match="not a usable weights file"):
        load_network("resnet", WeightsSource("file", str(path)))


def test_weights_of_another_network_are_refused(weights_dir: Path) -> None:
    path = checkpoint_path("resnet", weights_dir)
    with pytest.raises(WeightsCorruptError, match="holds 'resnet' weights"):
        load_network("clip", WeightsSource("file", str(path)))


def test_clip_has_no_hub_weights_and_says_why() -> None:
    with pytest.raises(WeightsMissingError, match="trained into the packaged text encoder"):
        load_network("clip", parse_source("hub:ViT-B-32:openai"))


def test_timm_hub_tag_reaches_timm(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool, dict[str, Any]]] = []

    def fake_create_model(name: str, pretrained: bool = False, **kwargs: Any) -> Any:
        calls.append((name, pretrained, kwargs))
        raise OSError("offline")

    monkeypatch.setattr(timm, "create_model", fake_create_model)
    with pytest.raises(WeightsMissingError, match="lookalike train --models resnet"):
        load_network("resnet", parse_source("hub:resnet18.a1_in1k"))
    assert calls == [("resnet18.a1_in1k", True, {"num_classes": 0})]
