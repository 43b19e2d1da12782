"""Served lists are logged off the request path: queued in memory, written in batches.

A request only appends to a queue (a few microseconds); a background thread decodes the answers
and writes them every `every_s` seconds, so a crash loses at most that much. While the store is
down the lists wait (at most `hold` of them, for at most `hold_s`), then are counted as dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
import numpy as np
import numpy.typing as npt

from events import metrics
from events.model import Answer, ServedList, Shown
from events.store import EventStore, EventStoreUnavailable

log = logging.getLogger("lookalike.events")
FLUSH_EVERY_S = 0.5
HOLD_LISTS = 100_000
HOLD_S = 300.0
_answer = msgspec.json.Decoder(Answer)


@dataclass
class Served:
    """What a request hands the log: the list's context and its answer body as sent."""

    ranking_id: str
    served_at: float
    user_id: str | None
    route: str
    query: str
    model: str
    body: bytes
    experiment: str | None = None
    arm: str | None = None
    run_id: int | None = None
    teams: list[str] | None = None  # interleaving: the arm that contributed each result
    features: npt.NDArray[np.float64] | None = None  # the ranker's features of each result
    feature_names: tuple[str, ...] = ()
    propensities: list[float] | None = None  # exploration: how likely each was shown there
    _record: ServedList | None = field(default=None, repr=False)

    def record(self) -> ServedList:
        """The log record (decoded once, on first use)."""
        if self._record is None:
            answer = _answer.decode(self.body)
            results = answer.results
            shown = [
                Shown(
                    product_id=r.product_id,
                    position=i + 1,
                    score=r.score,
                    ann_score=r.ann_score,
                    category_similarity=r.category_similarity,
                    category_match=r.category_match,
                    recall_rank=r.recall_rank,
                    team=self.teams[i] if self.teams else None,
                    propensity=self.propensities[i] if self.propensities else None,
                    features=None
                    if self.features is None
                    else dict(zip(self.feature_names, self.features[i].tolist(), strict=True)),
                )
                for i, r in enumerate(results)
            ]
            self._record = ServedList(
                ranking_id=self.ranking_id,
                served_at=self.served_at,
                user_id=self.user_id,
                route=self.route,
                query=self.query,
                model=self.model,
                parameters=answer.parameters,
                experiment=self.experiment,
                arm=self.arm,
                run_id=self.run_id,
                shown=shown,
            )
        return self._record


class ListLog:
    """The queue of served lists and the thread that writes them to the event store."""

    def __init__(
        self,
        store: EventStore,
        every_s: float = FLUSH_EVERY_S,
        hold: int = HOLD_LISTS,
        hold_s: float = HOLD_S,
    ) -> None:
        self.store = store
        self.every_s, self.hold, self.hold_s = every_s, hold, hold_s
        self._pending: OrderedDict[str, Served] = OrderedDict()  # oldest first
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.available = True

    def add(self, served: Served) -> None:
        """Queue a served list (the request path: no I/O)."""
        with self._lock:
            self._pending[served.ranking_id] = served
            metrics.LOG_QUEUE.set(len(self._pending))

    def waiting(self, ranking_ids: Iterable[str]) -> dict[str, ServedList]:
        """The records of these lists that still wait in the queue."""
        with self._lock:
            found = [self._pending[r] for r in ranking_ids if r in self._pending]
        return {s.ranking_id: s.record() for s in found}

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every queued list now; returns how many were written (0 if the store is down)."""
        with self._flushing:
            with self._lock:
                batch = list(self._pending.values())
            if not batch:
                return 0
            try:
                self.store.log_lists([s.record() for s in batch])
            except msgspec.DecodeError:  # not an answer this API wrote: never retried
                log.exception("an unreadable served list was dropped")
                self._discard(batch)
                return 0
            except EventStoreUnavailable as exc:
                if self.available:
                    log.warning("served lists wait in memory: %s", exc)
                self.available = False
                self._drop_overdue()
                return 0
            if not self.available:
                log.info("the event store is back: %d waiting lists written", len(batch))
            self.available = True
            self._discard(batch)
            metrics.LISTS_LOGGED.inc(len(batch))
            return len(batch)

    def _discard(self, batch: list[Served]) -> None:
        with self._lock:
            for s in batch:
                self._pending.pop(s.ranking_id, None)
            metrics.LOG_QUEUE.set(len(self._pending))

    def _drop_overdue(self) -> None:
        """Give up on the oldest lists beyond the bound of count or age."""
        oldest_kept = time.time() - self.hold_s
        dropped = 0
        with self._lock:
            while self._pending:
                ranking_id, first = next(iter(self._pending.items()))
                if len(self._pending) <= self.hold and first.served_at >= oldest_kept:
                    break
                del self._pending[ranking_id]
                dropped += 1
            metrics.LOG_QUEUE.set(len(self._pending))
        if dropped:
            metrics.LISTS_DROPPED.inc(dropped)
            log.error("dropped %d served lists: the event store stayed unavailable", dropped)

    def start(self) -> None:
        """Write the queue every `every_s` seconds in a background thread until `close`."""

        def loop() -> None:
            while not self._stop.wait(self.every_s):
                try:
                    self.flush()
                except Exception:  # keep logging; the next round retries
                    log.exception("writing served lists failed")

        self._thread = threading.Thread(target=loop, name="list-log", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is left (if the store is there)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
