"""The committed CLIP weights are meaningful on held-out products (the acceptance figure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from embed.catalog import open_catalog
from embed.evaluate import MIN_HELD_OUT_ITEMS, held_out_prompt_retrieval
from embed.split import load_split
from embed.text_encoder import TextEncoder
from embed.weights import CATALOG, checkpoint_path, load_network
from tests.embed.catalog_fixture import RAW_CATALOGUE, build_catalog

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not checkpoint_path("clip").is_file(), reason="no committed CLIP weights")
def test_category_prompts_retrieve_their_category_on_held_out_products(tmp_path: Path) -> None:
    if not RAW_CATALOGUE.is_dir():
        pytest.skip(f"raw catalogue {RAW_CATALOGUE} not available")
    split = load_split()
    catalog = open_catalog(build_catalog(tmp_path / "catalog", ids=split.held_out))
    clip = load_network("clip", CATALOG)
    result = held_out_prompt_retrieval(clip, TextEncoder.load(), catalog, split)
    assert len(result.hits) >= 15, f"expected many articleTypes with ≥ {MIN_HELD_OUT_ITEMS} items"
    misses = sorted(name for name, hit in result.hits.items() if not hit)
    assert result.fraction >= 0.8, f"top-1 hit rate {result.fraction:.2f}, misses: {misses}"
