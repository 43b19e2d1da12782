"""The fixed, saved held-out split: 10% of products, seeded, stratified by category."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embed.errors import CatalogNotReadyError

SPLIT_PATH = Path(__file__).parent / "weights" / "split.json"
VALIDATION_PATH = Path(__file__).parent / "weights" / "validation.json"
SPLIT_SEED = 20240603
HELD_OUT_FRACTION = 0.1
MIN_STRATUM = 10


@dataclass(frozen=True)
class Split:
    """Held-out product ids; every other product may be used for training."""

    held_out: frozenset[int]
    seed: int
    fraction: float
    stratified_by: str

    def is_held_out(self, ids: pd.Series) -> pd.Series:
        """Boolean mask of the ids that are held out."""
        return ids.isin(self.held_out)


def make_split(
    products: pd.DataFrame,
    category: str,
    seed: int = SPLIT_SEED,
    fraction: float = HELD_OUT_FRACTION,
) -> Split:
    """Hold out `fraction` of each category; categories too small to stratify are pooled."""
    rng = np.random.default_rng(seed)
    held: list[int] = []
    pool: list[int] = []
    groups = products.groupby(products[category].fillna(""), sort=True)["id"]
    for _, ids in groups:
        ordered = np.sort(ids.to_numpy(dtype=np.int64))
        if len(ordered) < MIN_STRATUM:
            pool.extend(ordered.tolist())
            continue
        held.extend(rng.permutation(ordered)[: round(fraction * len(ordered))].tolist())
    pooled = rng.permutation(np.array(sorted(pool), dtype=np.int64))
    held.extend(pooled[: round(fraction * len(pooled))].tolist())
    return Split(frozenset(int(i) for i in held), seed, fraction, category)


def save_split(split: Split, path: Path = SPLIT_PATH) -> None:
    """Write the split as JSON (sorted held-out ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "seed": split.seed,
        "fraction": split.fraction,
        "stratified_by": split.stratified_by,
        "count": len(split.held_out),
        "held_out": sorted(split.held_out),
    }
    path.write_text(json.dumps(payload, indent=0) + "\n")


def load_split(path: Path = SPLIT_PATH) -> Split:
    """Read the saved split, or explain how to create it."""
    if not path.is_file():
        raise CatalogNotReadyError(f"no split at {path}; run `lookalike train` to create it")
    payload = json.loads(path.read_text())
    return Split(
        frozenset(payload["held_out"]),
        payload["seed"],
        payload["fraction"],
        payload["stratified_by"],
    )


def load_or_make_split(products: pd.DataFrame, category: str, path: Path = SPLIT_PATH) -> Split:
    """The saved split if there is one (it never changes once written), else a new saved one
    stratified by `category`."""
    if path.is_file():
        return load_split(path)
    split = make_split(products, category)
    save_split(split, path)
    return split


def load_or_make_validation(
    products: pd.DataFrame, category: str, test: Split, path: Path = VALIDATION_PATH
) -> Split:
    """The validation split: 10 % of the non-test products, for every choice that is tuned.

    Training never sees it either, so recipes, weights and defaults are chosen on products no
    model learnt from, and the test split is read only for the final numbers.
    """
    if path.is_file():
        return load_split(path)
    split = make_split(products[~test.is_held_out(products["id"])], category, SPLIT_SEED + 1)
    save_split(split, path)
    return split
