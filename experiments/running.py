"""The experiment that runs on /recommend now, shared by every API process through the store."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import msgspec

from events.store import EventStore, EventStoreUnavailable, ExperimentRun
from experiments.assign import assign
from experiments.design import Arm, ExperimentSpec
from experiments.stats import ExperimentResult, results

log = logging.getLogger("lookalike.experiments")
REFRESH_S = 1.0  # how soon another process's PUT or DELETE is seen here


@dataclass(frozen=True)
class Running:
    """A running experiment with its arms parsed."""

    run: ExperimentRun
    arms: list[Arm]

    def arm_of(self, user_id: str) -> Arm:
        """The arm this shopper is in."""
        return assign(self.run.name, self.arms, user_id)


class Experiments:
    """Start, stop and read experiments. The running one is kept in memory and read again from
    the store every `refresh_s` by a background thread, so requests never wait on the store."""

    def __init__(self, store: EventStore, refresh_s: float = REFRESH_S) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self._running: Running | None = None
        self._stop = threading.Event()
        self.refresh()

    def running(self) -> Running | None:
        """The experiment that assigns shoppers now (the last one known while the store is
        down, so /recommend keeps its arms)."""
        return self._running

    def refresh(self) -> None:
        """Read the running experiment from the store (another process may have changed it)."""
        try:
            self._running = _parsed(self.store.running_experiment())
        except EventStoreUnavailable as exc:
            log.warning("experiments not refreshed: %s", exc)

    def watch(self) -> None:
        """Refresh every `refresh_s` seconds in a background thread until `close`."""

        def loop() -> None:
            while not self._stop.wait(self.refresh_s):
                self.refresh()

        threading.Thread(target=loop, name="experiments", daemon=True).start()

    def close(self) -> None:
        """Stop refreshing."""
        self._stop.set()

    def start(self, name: str, spec: ExperimentSpec) -> ExperimentRun:
        """Start (or restart, with fresh results) experiment `name`."""
        arms = [msgspec.to_builtins(arm) for arm in spec.arms]
        run = self.store.start_experiment(name, spec.design, arms, time.time())
        self.refresh()
        return run

    def stop(self, name: str) -> bool:
        """Stop `name`; its results stay readable. False if it was not running."""
        stopped = self.store.stop_experiment(name, time.time())
        self.refresh()
        return stopped

    def results(self, name: str) -> ExperimentResult | None:
        """The latest run's counts and statistics, or None if `name` never ran."""
        run = self.store.experiment(name)
        if run is None:
            return None
        return results(run, self.store.run_counts(run.run_id, run.design == "interleave"))


def _parsed(run: ExperimentRun | None) -> Running | None:
    if run is None:
        return None
    return Running(run, [msgspec.convert(arm, Arm) for arm in run.arms])
