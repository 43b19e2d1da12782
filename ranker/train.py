"""`lookalike ranker train`: LightGBM lambdarank on the logged lists, judged on their tail.

Relevance grades: purchase 3, add-to-cart 2, click 1, shown and not clicked 0. The features are
the ones logged when each list was served. Lists are ordered by time: the last 20 % are held
out (NDCG@5 of the learned order against the order that was served), the 15 % before them
choose how position bias is handled, the rest train.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from core.errors import LookalikeError
from events.model import ServedList
from events.store import EventStore
from ranker.features import FEATURES
from ranker.model import COMPILED_FILE, LATEST, MANIFEST, MODEL_FILE, SERVED_POSITION, new_version

GRADES = {"click": 1, "add_to_cart": 2, "purchase": 3}
MIN_CLICKED_LISTS = 200
TEST_SHARE = 0.2
VALIDATION_SHARE = 0.15
K = 5
# Position bias: as a feature (held at 1 when serving), LightGBM's own unbiased lambdarank
# (it learns a bias per position), or ignored.
BIAS_CHOICES = ("feature", "lightgbm", "none")
# Small, regularised trees: clicks are noisy, and a list of five says little. Gains are the
# grades themselves (LightGBM's default 2^g − 1 let purchases drown the clicks). Chosen on the
# simulated traffic of the test suite's slice (tests/api/test_ranker.py), never on the bench's.
PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [K],
    "label_gain": [0, 1, 2, 3],
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "lambda_l2": 10.0,
    "feature_fraction": 0.9,
    "num_threads": 2,
    "verbose": -1,
    "seed": 0,
}
MAX_ROUNDS = 300
PATIENCE = 100  # rounds without a better validation NDCG before stopping


@dataclass(frozen=True)
class Lists:
    """Logged lists as a ranking dataset: one row per shown product, lists in time order."""

    features: npt.NDArray[np.float64]  # rows × FEATURES
    grades: npt.NDArray[np.int32]
    positions: npt.NDArray[np.int32]  # 1-based, as shown
    sizes: list[int]
    served_at: list[float]

    def __len__(self) -> int:
        return len(self.sizes)

    def slice(self, start: int, stop: int) -> Lists:
        """Lists `start`…`stop` (in time order)."""
        offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        a, b = int(offsets[start]), int(offsets[stop])
        return Lists(
            self.features[a:b],
            self.grades[a:b],
            self.positions[a:b],
            self.sizes[start:stop],
            self.served_at[start:stop],
        )

    def inputs(self, bias: str, served: bool = False) -> npt.NDArray[np.float64]:
        """The model's input columns; `served`: position held as when serving."""
        if bias != "feature":
            return self.features
        position = np.full(len(self.positions), SERVED_POSITION) if served else self.positions
        return np.hstack([self.features, position[:, None]])


def logged_lists(store: EventStore) -> Lists:
    """Every logged /recommend list with features, graded by the events on it."""
    served = [s for s in store.served_lists() if s.route == "recommend" and _has_features(s)]
    grade: dict[tuple[str, str], int] = {}
    for event in store.events():
        key = (event.ranking_id, event.product_id)
        grade[key] = max(grade.get(key, 0), GRADES[event.type])
    rows = [
        ([item.features[name] for name in FEATURES] if item.features else [], item.position)
        for s in served
        for item in s.shown
    ]
    return Lists(
        features=np.array([r for r, _ in rows], dtype=np.float64).reshape(len(rows), len(FEATURES)),
        grades=np.array(
            [grade.get((s.ranking_id, item.product_id), 0) for s in served for item in s.shown],
            dtype=np.int32,
        ),
        positions=np.array([p for _, p in rows], dtype=np.int32),
        sizes=[len(s.shown) for s in served],
        served_at=[s.served_at for s in served],
    )


def _has_features(served: ServedList) -> bool:
    return bool(served.shown) and all(
        item.features is not None and set(FEATURES) <= item.features.keys() for item in served.shown
    )


def ndcg(grades: Sequence[int] | npt.NDArray[np.int32], k: int = K) -> float | None:
    """NDCG@k of grades in the order shown (gain 2^g − 1); None when nothing is relevant."""
    gains = (2.0 ** np.asarray(grades, dtype=np.float64)) - 1
    ideal = np.sort(gains)[::-1][:k]
    discounts = 1 / np.log2(np.arange(2, k + 2))
    best = float((ideal * discounts[: len(ideal)]).sum())
    if best == 0:
        return None
    return float((gains[:k] * discounts[: len(gains[:k])]).sum()) / best


def compare(lists: Lists, scores: npt.NDArray[np.float64]) -> tuple[float, float, int]:
    """Mean NDCG@5 of the learned order (shown products sorted by `scores`) and of the order
    that was served, over the lists with a relevant product; and how many lists that is."""
    learned, served = [], []
    start = 0
    for size in lists.sizes:
        grades = lists.grades[start : start + size]
        by_position = grades[np.argsort(lists.positions[start : start + size], kind="stable")]
        by_score = grades[np.argsort(-scores[start : start + size], kind="stable")]
        start += size
        value = ndcg(by_position)
        if value is None:
            continue
        served.append(value)
        learned.append(ndcg(by_score) or 0.0)
    if not served:
        return 0.0, 0.0, 0
    return float(np.mean(learned)), float(np.mean(served)), len(served)


def fit(train: Lists, valid: Lists, bias: str, deadline: float) -> lgb.Booster:
    """A lambdarank model with early stopping on `valid`, within the time left."""
    position = train.positions - 1 if bias == "lightgbm" else None
    data = lgb.Dataset(train.inputs(bias), train.grades, group=train.sizes, position=position)
    check = lgb.Dataset(valid.inputs(bias), valid.grades, group=valid.sizes, reference=data)
    bar = tqdm(total=MAX_ROUNDS, desc=f"ranker ({bias})", unit="tree", leave=False)

    def budget(env: lgb.callback.CallbackEnv) -> None:
        bar.update(1)
        if time.monotonic() > deadline:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])

    try:
        return lgb.train(
            PARAMS,
            data,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[check],
            callbacks=[lgb.early_stopping(PATIENCE, verbose=False), budget],
        )
    finally:
        bar.close()


def train_ranker(
    store: EventStore,
    folder: Path,
    max_minutes: float = 10.0,
    compile_model: bool = True,
    first: int | None = None,
) -> dict[str, Any]:
    """Train, evaluate and save a new ranker version under `folder`; serve it (LATEST).
    `compile_model`: also compile it to native code (the API then predicts with lleaves);
    `first`: learn from the oldest `first` logged lists only (how much data buys how much)."""
    lists = logged_lists(store)
    lists = lists.slice(0, min(first or len(lists), len(lists)))
    clicked = int(sum(1 for v in _list_max(lists) if v > 0))
    if clicked < MIN_CLICKED_LISTS:
        raise LookalikeError(
            f"too little data to train a ranker: {len(lists):,} logged lists, {clicked:,} of "
            f"them with a click or more; at least {MIN_CLICKED_LISTS} clicked lists are "
            "needed. Serve more traffic (e.g. `lookalike simulate --lists 5000`) and retry."
        )
    started, budget = time.monotonic(), max_minutes * 60
    n = len(lists)
    test_start = int(n * (1 - TEST_SHARE))
    valid_start = int(test_start * (1 - VALIDATION_SHARE))
    train, valid, test = (
        lists.slice(0, valid_start),
        lists.slice(valid_start, test_start),
        lists.slice(test_start, n),
    )
    choices: dict[str, dict[str, float]] = {}
    models: dict[str, lgb.Booster] = {}
    for i, bias in enumerate(BIAS_CHOICES):  # each choice gets an equal share of the budget
        deadline = started + budget * (i + 1) / len(BIAS_CHOICES)
        models[bias] = fit(train, valid, bias, deadline)
        choices[bias] = {
            "validation_ndcg5": compare(valid, _scores(models[bias], valid, bias))[0],
            "test_ndcg5": compare(test, _scores(models[bias], test, bias))[0],
        }
    chosen = max(BIAS_CHOICES, key=lambda b: choices[b]["validation_ndcg5"])
    booster = models[chosen]
    learned, served, evaluated = compare(test, _scores(booster, test, chosen))
    version = new_version()
    target = folder / version
    target.mkdir(parents=True)
    booster.save_model(str(target / MODEL_FILE))
    manifest = {
        "version": version,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "features": list(FEATURES),
        "position_bias": chosen,
        "trees": booster.num_trees(),
        "window": {
            "from": lists.served_at[0],
            "to": lists.served_at[-1],
            "lists": n,
            "clicked_lists": clicked,
            "train_lists": len(train),
            "validation_lists": len(valid),
            "test_lists": len(test),
        },
        "metrics": {
            "ndcg5_learned": learned,
            "ndcg5_served": served,
            "test_lists_evaluated": evaluated,
            "position_bias": choices,
        },
        "params": PARAMS,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if compile_model:
        _compile(target)
    _point_latest(folder, version)
    return manifest


def _scores(booster: lgb.Booster, lists: Lists, bias: str) -> npt.NDArray[np.float64]:
    """The model's scores of logged lists, position held as when serving."""
    return np.asarray(booster.predict(lists.inputs(bias, served=True), num_threads=1))


def _list_max(lists: Lists) -> list[int]:
    offsets = np.concatenate([[0], np.cumsum(lists.sizes)])
    return [int(lists.grades[a:b].max(initial=0)) for a, b in itertools.pairwise(offsets)]


def _compile(target: Path) -> None:
    """Compile the trees to native code (lleaves), so serving predicts in microseconds."""
    try:
        import lleaves

        print("compiling the ranker to native code (lleaves) ...", flush=True)
        lleaves.Model(model_file=str(target / MODEL_FILE)).compile(
            cache=str(target / COMPILED_FILE)
        )
    except Exception as exc:  # serving falls back to LightGBM's predict
        print(f"not compiled ({exc}); the API predicts with LightGBM")


def _point_latest(folder: Path, version: str) -> None:
    temporary = folder / f".{LATEST}.{os.getpid()}"
    temporary.write_text(version + "\n")
    os.replace(temporary, folder / LATEST)
