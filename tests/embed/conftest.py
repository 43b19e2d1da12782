"""Fixtures: a ~200-product slice of the real catalogue and small randomly initialised weights."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from core.schema import FASHION
from core.settings import Settings
from embed.networks import DEFAULT_CLIP, DEFAULT_TIMM, build_clip, build_timm
from embed.text_encoder import TextEncoder
from embed.weights import checkpoint_path, save_checkpoint
from ingest.table import read_table
from tests.embed.catalog_fixture import RAW_CATALOGUE, build_catalog

IMAGELESS = (39403, 39410, 39401)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose catalogue holds 197 products with an image and 3 without."""
    if not RAW_CATALOGUE.is_dir():
        pytest.skip(f"raw catalogue {RAW_CATALOGUE} not available")
    first = read_table(RAW_CATALOGUE, FASHION).frame["id"].head(197).tolist()
    data_dir = tmp_path_factory.mktemp("data")
    build_catalog(data_dir / "catalog", ids={*first, *IMAGELESS})
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def text_encoder() -> TextEncoder:
    """The pretrained text encoder, loaded from the installed package."""
    return TextEncoder.load()


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Untrained but complete weights for every network, saved as `lookalike train` does."""
    directory = tmp_path_factory.mktemp("weights")
    clip = build_clip(DEFAULT_CLIP)
    save_checkpoint(clip, checkpoint_path("clip", directory), "clip", asdict(DEFAULT_CLIP))
    for network in ("resnet", "efficientnet"):
        config = DEFAULT_TIMM[network]
        module = build_timm(config.arch)
        save_checkpoint(module, checkpoint_path(network, directory), network, vars(config))
    return directory
