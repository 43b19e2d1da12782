"""The held-out split: seeded, stratified, saved, and never trained on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.settings import Settings
from embed.catalog import open_catalog
from embed.split import SPLIT_PATH, load_split, make_split, save_split
from embed.trainset import training_set


def _products(n_per_type: dict[str, int]) -> pd.DataFrame:
    types = [t for t, n in n_per_type.items() for _ in range(n)]
    return pd.DataFrame({"id": range(len(types)), "articleType": types})


def test_split_is_seeded_and_stratified() -> None:
    products = _products({"Shirts": 200, "Watches": 50, "Rare": 3})
    split = make_split(products, "articleType")
    assert split == make_split(products, "articleType")
    held = products[split.is_held_out(products["id"])]
    assert held["articleType"].value_counts().to_dict() == {"Shirts": 20, "Watches": 5}


def test_split_round_trips(tmp_path: Path) -> None:
    split = make_split(_products({"Shirts": 100}), "articleType")
    save_split(split, tmp_path / "split.json")
    assert load_split(tmp_path / "split.json") == split


def test_training_set_excludes_held_out_products(settings: Settings) -> None:
    catalog = open_catalog(settings.catalog_dir)
    split = make_split(catalog.products, catalog.schema.category)
    ids = {int(r["id"]) for r in training_set(catalog, split).records}
    assert ids and ids.isdisjoint(split.held_out)


def test_committed_split_holds_out_a_tenth() -> None:
    split = load_split(SPLIT_PATH)
    assert 4000 < len(split.held_out) < 4900
