"""Feature contributions as LightGBM's `pred_contrib` computes them (path-dependent TreeSHAP),
from tables built once per model: serving looks them up instead of walking every tree.

In one tree, a row's contributions depend only on which way it goes at each split (path-dependent
SHAP weighs the branches a feature does not decide by their training counts). A tree with n
splits has at most 2ⁿ such patterns; for each, the exact Shapley values over the tree's features
are computed once, so a row's contributions are one table lookup per tree. Trees with more than
`MAX_SPLITS` splits, or with categorical splits, are left to LightGBM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

MAX_SPLITS = 10  # 2¹⁰ patterns a tree: a few MB of tables at most
ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| at most this is "zero"


@dataclass
class _Split:
    feature: int
    threshold: float
    default_left: bool
    missing: str  # "None" | "Zero" | "NaN"
    count: float
    left: _Split | float = 0.0  # a leaf is its value
    right: _Split | float = 0.0
    left_count: float = 0.0
    right_count: float = 0.0
    bit: int = 0  # this split's bit in the tree's pattern


@dataclass
class _Tree:
    root: _Split | float
    splits: list[_Split] = field(default_factory=list)


class ContributionTable:
    """Every tree's contributions by split pattern, and the splits that make a row's pattern."""

    def __init__(self, dumped: dict[str, Any]) -> None:
        """From the model as `Booster.dump_model` gives it."""
        self.width = len(dumped["feature_names"])
        trees = [_tree(info["tree_structure"]) for info in dumped["tree_info"]]
        patterns = 2 ** max((len(t.splits) for t in trees), default=0)
        # (tree, pattern, feature + bias): the bias column holds the tree's expected value.
        self.tables = np.zeros((len(trees), patterns, self.width + 1))
        splits = [(i, s) for i, t in enumerate(trees) for s in t.splits]
        self.feature = np.array([s.feature for _, s in splits], dtype=np.intp)
        self.threshold = np.array([s.threshold for _, s in splits])
        self.default_left = np.array([s.default_left for _, s in splits], dtype=bool)
        self.missing_zero = np.array([s.missing == "Zero" for _, s in splits], dtype=bool)
        self.missing_nan = np.array([s.missing in ("Zero", "NaN") for _, s in splits], dtype=bool)
        self.has_missing = bool(self.missing_nan.any())
        self.bit = np.array([1 << s.bit for _, s in splits], dtype=np.int64)
        # Each tree's splits are consecutive: the trees that have any, and where theirs start
        # (a single-leaf tree has one pattern, 0).
        sizes = np.array([len(t.splits) for t in trees], dtype=np.int64)
        self.split_trees = np.flatnonzero(sizes)
        self.starts = (np.cumsum(sizes) - sizes)[self.split_trees]
        for i, tree in enumerate(trees):
            self.tables[i] = _tree_table(tree, patterns, self.width)

    @classmethod
    def of(cls, booster: lgb.Booster) -> ContributionTable | None:
        """The table of a model whose trees all fit one, else None (LightGBM computes them)."""
        dumped = booster.dump_model()
        for info in dumped["tree_info"]:
            splits = _all_splits(info["tree_structure"])
            if len(splits) > MAX_SPLITS or any(s["decision_type"] != "<=" for s in splits):
                return None
        return cls(dumped)

    def contributions(self, inputs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each row's contribution of every feature, then the bias (what `pred_contrib` gives)."""
        values = inputs[:, self.feature]
        nan = np.isnan(values)
        # LightGBM reads NaN as 0 where NaN is not its missing value.
        goes_left = (np.where(nan, 0.0, values) if nan.any() else values) <= self.threshold
        if self.has_missing:
            missing = (nan & self.missing_nan) | (self.missing_zero & (np.abs(values) <= ZERO))
            goes_left = np.where(missing, self.default_left, goes_left)
        trees = np.arange(self.tables.shape[0])
        patterns = np.zeros((len(inputs), len(trees)), dtype=np.int64)  # (row, tree)
        if len(self.starts):
            patterns[:, self.split_trees] = np.add.reduceat(goes_left * self.bit, self.starts, 1)
        return np.asarray(self.tables[trees, patterns].sum(axis=1))


def _all_splits(node: dict[str, Any]) -> list[dict[str, Any]]:
    if "split_index" not in node:
        return []
    return [node, *_all_splits(node["left_child"]), *_all_splits(node["right_child"])]


def _tree(structure: dict[str, Any]) -> _Tree:
    tree = _Tree(root=0.0)

    def build(node: dict[str, Any]) -> tuple[_Split | float, float]:
        if "split_index" not in node:
            return float(node["leaf_value"]), float(node.get("leaf_count", 0))
        split = _Split(
            feature=node["split_feature"],
            threshold=float(node["threshold"]),
            default_left=bool(node["default_left"]),
            missing=node["missing_type"],
            count=float(node["internal_count"]),
            bit=len(tree.splits),
        )
        tree.splits.append(split)
        split.left, split.left_count = build(node["left_child"])
        split.right, split.right_count = build(node["right_child"])
        return split, split.count

    tree.root = build(structure)[0]
    return tree


def _tree_table(tree: _Tree, patterns: int, width: int) -> npt.NDArray[np.float64]:
    """The tree's exact Shapley values for every pattern: v(S) follows the row's way at splits
    on a feature in S and averages both ways by training count elsewhere."""
    masks = np.arange(patterns)
    features = sorted({s.feature for s in tree.splits})

    def value(node: _Split | float, known: frozenset[int]) -> npt.NDArray[np.float64]:
        if not isinstance(node, _Split):
            return np.full(patterns, node)
        left, right = value(node.left, known), value(node.right, known)
        if node.feature in known:
            return np.where(masks >> node.bit & 1, left, right)
        total = node.left_count + node.right_count
        if total == 0:
            return (left + right) / 2
        return (node.left_count * left + node.right_count * right) / total

    v = {
        frozenset(s): value(tree.root, frozenset(s))
        for size in range(len(features) + 1)
        for s in combinations(features, size)
    }
    table = np.zeros((patterns, width + 1))
    m = len(features)
    for f in features:
        others = [g for g in features if g != f]
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for s in combinations(others, size):
                table[:, f] += weight * (v[frozenset(s) | {f}] - v[frozenset(s)])
    table[:, width] = v[frozenset()]
    return table
