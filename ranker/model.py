"""A trained ranker as served: scores for every candidate, and the largest feature
contributions (LightGBM's `pred_contrib`, which sum to the score; looked up in tables built at
load, `ranker.contributions`) of the chosen few."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from prometheus_client import Gauge

from ranker.contributions import ContributionTable

log = logging.getLogger("lookalike.ranker")
VERSION_IN_USE = Gauge(
    "lookalike_ranker_info",
    "The learned ranker version this process serves (value 1)",
    ["version"],
    multiprocess_mode="livemax",
)
LATEST = "LATEST"  # names the version to serve; replaced atomically by training
MODEL_FILE = "model.txt"
COMPILED_FILE = "model.so"  # the same trees compiled to native code by lleaves
MANIFEST = "manifest.json"
SERVED_POSITION = 1.0  # position bias as a feature: every candidate is scored as if first
CONTRIBUTIONS = 3


class LearnedRanker:
    """One trained model version, loaded for serving."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
        self.version: str = self.manifest["version"]
        self.features: list[str] = self.manifest["features"]
        self.with_position = self.manifest["position_bias"] == "feature"
        self.booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
        self._compiled = _compiled(folder)
        self._table = ContributionTable.of(self.booster)

    @property
    def compiled(self) -> bool:
        """Whether predictions come from the lleaves-compiled model."""
        return self._compiled is not None

    @property
    def names(self) -> list[str]:
        """The model's input columns: the served features, then position if it uses it."""
        return [*self.features, "position"] if self.with_position else list(self.features)

    def _inputs(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if not self.with_position:
            return rows
        return np.hstack([rows, np.full((len(rows), 1), SERVED_POSITION)])

    def scores(self, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The model's score for each row of served features."""
        inputs = self._inputs(rows)
        if self._compiled is not None:
            return np.asarray(self._compiled.predict(inputs, n_jobs=1))
        return np.asarray(self.booster.predict(inputs, num_threads=1))

    def contributions(self, rows: npt.NDArray[np.float64]) -> list[tuple[tuple[str, float], ...]]:
        """The largest feature contributions of each row, as (feature, value) by size (bias
        left out)."""
        inputs = self._inputs(rows)
        if self._table is not None:
            raw = self._table.contributions(inputs)[:, :-1]
        else:
            raw = np.asarray(self.booster.predict(inputs, pred_contrib=True, num_threads=1))[:, :-1]
        top = np.argsort(-np.abs(raw), axis=1, kind="stable")[:, :CONTRIBUTIONS]
        values = np.round(np.take_along_axis(raw, top, axis=1), 6).tolist()
        names = self.names
        return [
            tuple((names[i], v) for i, v in zip(order, row, strict=True))
            for order, row in zip(top.tolist(), values, strict=True)
        ]


def _compiled(folder: Path) -> Any:
    """The lleaves-compiled model, or None (then LightGBM predicts)."""
    if not (folder / COMPILED_FILE).is_file():
        return None
    try:
        import lleaves

        model = lleaves.Model(model_file=str(folder / MODEL_FILE))
        model.compile(cache=str(folder / COMPILED_FILE))
        return model
    except Exception:  # a machine without LLVM: LightGBM's own predict still works
        log.exception("the compiled ranker could not be loaded; predicting with LightGBM")
        return None


class Rankers:
    """The ranker to serve: the version `data/rankers/LATEST` names, followed every few
    seconds so a newly trained model is picked up without a restart."""

    def __init__(self, folder: Path, every_s: float = 2.0) -> None:
        self.folder = folder
        self.every_s = every_s
        self.current: LearnedRanker | None = None
        self._stop = threading.Event()
        self.refresh()

    def refresh(self) -> bool:
        """Load the latest version if it changed; True if it did."""
        latest = self.folder / LATEST
        try:
            version = latest.read_text().strip()
        except FileNotFoundError:
            return False
        if self.current is not None and self.current.version == version:
            return False
        previous = self.current.version if self.current is not None else None
        try:
            self.current = LearnedRanker(self.folder / version)
        except Exception:  # a broken model folder: keep serving the previous one
            log.exception("ranker %s could not be loaded", version)
            return False
        if previous is not None:
            VERSION_IN_USE.remove(previous)
        VERSION_IN_USE.labels(version).set(1)
        log.info("serving ranker %s", version)
        return True

    def watch(self) -> None:
        """Follow new versions in a background thread until `close`."""

        def loop() -> None:
            while not self._stop.wait(self.every_s):
                self.refresh()

        threading.Thread(target=loop, name="ranker-watcher", daemon=True).start()

    def close(self) -> None:
        """Stop following."""
        self._stop.set()


def new_version() -> str:
    """A version name that sorts by training time."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000:06d}"
