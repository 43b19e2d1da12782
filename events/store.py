"""The event store: served lists, shoppers' events and experiments, in SQLite or PostgreSQL.

One SQL implementation serves both engines; each engine's module only says how to connect, how
to write an id list and what counts as the engine being down. Every call commits before it
returns, so what it answered is durable (SQLite: WAL with synchronous=FULL; PostgreSQL: the
default synchronous commit).
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from core.errors import LookalikeError
from events.model import ServedList, StoredEvent

EVENTS_FILE = "events.sqlite"


class EventStoreUnavailable(LookalikeError):
    """The event store cannot be reached now; the caller retries later."""


class ExperimentConflict(LookalikeError):
    """Another experiment already runs on /recommend."""


@dataclass(frozen=True)
class ExperimentRun:
    """One run of a named experiment: its design, its arms (as JSON) and when it ran."""

    run_id: int
    name: str
    design: str
    arms: list[dict[str, Any]]
    started_at: float
    stopped_at: float | None

    @property
    def active(self) -> bool:
        """Whether it still assigns shoppers."""
        return self.stopped_at is None


@dataclass(frozen=True)
class RunCounts:
    """Exact counts of one experiment run, per arm (or per team for interleaving)."""

    lists: dict[str, int]  # lists served per arm (interleaving: per first pick)
    users: dict[str, int]
    total_lists: int
    total_users: int
    events: dict[tuple[str, str], int]  # (arm, type) → events credited to it
    lists_with: dict[tuple[str, str], int]  # (arm, type) → lists with at least one such event
    team_clicks: dict[str, dict[str, int]]  # ranking_id → team → clicks (interleaving)


TABLES = """
CREATE TABLE IF NOT EXISTS lists (
    ranking_id TEXT PRIMARY KEY,
    served_at DOUBLE PRECISION NOT NULL,
    user_id TEXT,
    route TEXT NOT NULL,
    query TEXT NOT NULL,
    model TEXT NOT NULL,
    experiment TEXT,
    arm TEXT,
    run_id BIGINT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lists_run ON lists (run_id);
CREATE INDEX IF NOT EXISTS lists_served ON lists (served_at);
CREATE TABLE IF NOT EXISTS shown (
    ranking_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    team TEXT,
    PRIMARY KEY (ranking_id, product_id)
);
CREATE TABLE IF NOT EXISTS events (
    seq {serial} PRIMARY KEY,
    event_id TEXT UNIQUE,
    type TEXT NOT NULL,
    ranking_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    user_id TEXT,
    at DOUBLE PRECISION NOT NULL,
    received_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ranking ON events (ranking_id);
CREATE INDEX IF NOT EXISTS events_user ON events (user_id, at);
CREATE TABLE IF NOT EXISTS experiments (
    run_id {serial} PRIMARY KEY,
    name TEXT NOT NULL,
    design TEXT NOT NULL,
    arms TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    stopped_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS experiments_name ON experiments (name, run_id);
"""
EXPERIMENT_COLUMNS = "run_id, name, design, arms, started_at, stopped_at"


class EventStore:
    """SQL shared by the engines; subclasses connect and name their dialect's differences."""

    serial = "INTEGER"
    down: tuple[type[Exception], ...] = ()  # errors that mean the engine is unreachable

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        with contextlib.suppress(EventStoreUnavailable), self._transaction():
            pass  # tables created now, or on the first call once the store is reachable

    def _connect(self) -> Any:
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        """The statement in this engine's parameter style (written with `?`)."""
        return statement

    def _any(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """`column` equal to one of `values`: the SQL and its parameters."""
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def _begin_exclusive(self, cursor: Any) -> None:
        """Serialise experiment changes across processes (one running experiment)."""

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._prepared(self._connect())
                cursor = self._connection.cursor()
                try:
                    yield _Cursor(cursor, self._sql)
                    self._connection.commit()
                except BaseException:
                    self._connection.rollback()
                    raise
            except self.down as exc:
                self._drop_connection()
                raise EventStoreUnavailable(f"the event store is unavailable: {exc}") from exc

    def _prepared(self, connection: Any) -> Any:
        """A new connection, the tables created if they are not there yet."""
        cursor = connection.cursor()
        for statement in TABLES.format(serial=self.serial).split(";"):
            if statement.strip():
                cursor.execute(statement)
        connection.commit()
        return connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                self._connection.close()
        self._connection = None

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._drop_connection()

    # Served lists -------------------------------------------------------------------------

    def log_lists(self, lists: Sequence[ServedList]) -> None:
        """Keep served lists (a list already kept is kept once)."""
        encode = msgspec.json.encode
        with self._transaction() as cursor:
            cursor.executemany(
                "INSERT INTO lists (ranking_id, served_at, user_id, route, query, model, "
                "experiment, arm, run_id, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (ranking_id) DO NOTHING",
                [(*_list_row(s), encode(s).decode()) for s in lists],
            )
            cursor.executemany(
                "INSERT INTO shown (ranking_id, product_id, position, team) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ranking_id, product_id) DO NOTHING",
                [
                    (s.ranking_id, item.product_id, item.position, item.team)
                    for s in lists
                    for item in s.shown
                ],
            )

    def shown_products(self, ranking_ids: Iterable[str]) -> dict[str, set[str]]:
        """The products each of these lists showed (lists not kept are left out)."""
        wanted = sorted(set(ranking_ids))
        if not wanted:
            return {}
        where, params = self._any("ranking_id", wanted)
        with self._transaction() as cursor:
            rows = cursor.execute(
                f"SELECT ranking_id, product_id FROM shown WHERE {where}", params
            ).fetchall()
        found: dict[str, set[str]] = defaultdict(set)
        for ranking_id, product_id in rows:
            found[ranking_id].add(product_id)
        return dict(found)

    def list_users(self, ranking_ids: Iterable[str]) -> dict[str, str | None]:
        """The shopper each of these lists was served to."""
        wanted = sorted(set(ranking_ids))
        if not wanted:
            return {}
        where, params = self._any("ranking_id", wanted)
        with self._transaction() as cursor:
            rows = cursor.execute(
                f"SELECT ranking_id, user_id FROM lists WHERE {where}", params
            ).fetchall()
        return dict(rows)

    def served_lists(self, since: float = 0.0) -> list[ServedList]:
        """Every list served at or after `since`, oldest first."""
        with self._transaction() as cursor:
            rows = cursor.execute(
                "SELECT record FROM lists WHERE served_at >= ? ORDER BY served_at, ranking_id",
                [since],
            ).fetchall()
        decoder = msgspec.json.Decoder(ServedList)
        return [decoder.decode(record) for (record,) in rows]

    def count_lists(self) -> int:
        """How many lists are kept."""
        with self._transaction() as cursor:
            return int(cursor.execute("SELECT COUNT(*) FROM lists").fetchone()[0])

    # Events -------------------------------------------------------------------------------

    def add_events(self, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """Keep accepted events; returns those that were new (an `event_id` counts once, also
        within the batch). An id another process keeps at the same moment is kept once too."""
        ids = [e.event_id for e in events if e.event_id is not None]
        seen = self._known_event_ids(ids)
        new = []
        for event in events:
            if event.event_id is not None:
                if event.event_id in seen:
                    continue
                seen.add(event.event_id)
            new.append(event)
        with self._transaction() as cursor:
            cursor.executemany(
                "INSERT INTO events (event_id, type, ranking_id, product_id, user_id, at, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                [
                    (e.event_id, e.type, e.ranking_id, e.product_id, e.user_id, *_times(e))
                    for e in new
                ],
            )
        return new

    def _known_event_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        where, params = self._any("event_id", ids)
        with self._transaction() as cursor:
            rows = cursor.execute(f"SELECT event_id FROM events WHERE {where}", params).fetchall()
        return {event_id for (event_id,) in rows}

    def events(self, since: float = 0.0, user_id: str | None = None) -> list[StoredEvent]:
        """Events at or after `since` (of one shopper, if given), oldest first."""
        where, params = "at >= ?", list[Any]([since])
        if user_id is not None:
            where += " AND user_id = ?"
            params.append(user_id)
        with self._transaction() as cursor:
            rows = cursor.execute(
                "SELECT type, ranking_id, product_id, user_id, event_id, at, received_at "
                f"FROM events WHERE {where} ORDER BY at, seq",
                params,
            ).fetchall()
        fields = ("type", "ranking_id", "product_id", "user_id", "event_id", "at", "received_at")
        return [StoredEvent(**dict(zip(fields, row, strict=True))) for row in rows]

    def events_after(
        self, seq: int, since: float = 0.0, limit: int = 100_000
    ) -> list[tuple[int, StoredEvent]]:
        """Events kept after sequence number `seq` (and at or after `since`), in the order
        they were kept, with their sequence numbers: how other processes follow new events."""
        with self._transaction() as cursor:
            rows = cursor.execute(
                "SELECT seq, type, ranking_id, product_id, user_id, event_id, at, received_at "
                "FROM events WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?",
                [seq, since, limit],
            ).fetchall()
        fields = ("type", "ranking_id", "product_id", "user_id", "event_id", "at", "received_at")
        return [
            (int(row[0]), StoredEvent(**dict(zip(fields, row[1:], strict=True)))) for row in rows
        ]

    def popularity(self, since: float) -> dict[str, tuple[int, int]]:
        """Per product: how often it was shown and clicked since `since`."""
        with self._transaction() as cursor:
            shown = cursor.execute(
                "SELECT s.product_id, COUNT(*) FROM shown s JOIN lists l ON l.ranking_id = "
                "s.ranking_id WHERE l.served_at >= ? GROUP BY s.product_id",
                [since],
            ).fetchall()
            clicked = cursor.execute(
                "SELECT product_id, COUNT(*) FROM events WHERE type = 'click' AND at >= ? "
                "GROUP BY product_id",
                [since],
            ).fetchall()
        counts = {product: (int(n), 0) for product, n in shown}
        for product, n in clicked:
            counts[product] = (counts.get(product, (0, 0))[0], int(n))
        return counts

    def count_events(self) -> int:
        """How many events are kept."""
        with self._transaction() as cursor:
            return int(cursor.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    # Experiments --------------------------------------------------------------------------

    def start_experiment(
        self, name: str, design: str, arms: list[dict[str, Any]], now: float
    ) -> ExperimentRun:
        """Start a new run of `name` (ending its previous run, whose results it replaces);
        ExperimentConflict if another experiment is running."""
        with self._transaction() as cursor:
            self._begin_exclusive(cursor)
            running = cursor.execute(
                "SELECT name FROM experiments WHERE stopped_at IS NULL AND name <> ?", [name]
            ).fetchall()
            if running:
                raise ExperimentConflict(
                    f"experiment {running[0][0]!r} is running on /recommend; stop it with "
                    f"DELETE /experiments/{running[0][0]} first"
                )
            cursor.execute(
                "UPDATE experiments SET stopped_at = ? WHERE name = ? AND stopped_at IS NULL",
                [now, name],
            )
            cursor.execute(
                "INSERT INTO experiments (name, design, arms, started_at) VALUES (?, ?, ?, ?)",
                [name, design, msgspec.json.encode(arms).decode(), now],
            )
            row = cursor.execute(
                f"SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = ? "
                "ORDER BY run_id DESC LIMIT 1",
                [name],
            ).fetchone()
        return _run(row)

    def stop_experiment(self, name: str, now: float) -> bool:
        """Stop the running experiment `name`; False if it was not running."""
        with self._transaction() as cursor:
            cursor.execute(
                "UPDATE experiments SET stopped_at = ? WHERE name = ? AND stopped_at IS NULL",
                [now, name],
            )
            return bool(cursor.rowcount)

    def experiment(self, name: str) -> ExperimentRun | None:
        """The latest run of `name`, running or stopped."""
        with self._transaction() as cursor:
            row = cursor.execute(
                f"SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = ? "
                "ORDER BY run_id DESC LIMIT 1",
                [name],
            ).fetchone()
        return None if row is None else _run(row)

    def experiments(self) -> list[ExperimentRun]:
        """The latest run of every experiment name, newest first."""
        with self._transaction() as cursor:
            rows = cursor.execute(
                f"SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE run_id IN "
                "(SELECT MAX(run_id) FROM experiments GROUP BY name) ORDER BY run_id DESC"
            ).fetchall()
        return [_run(row) for row in rows]

    def running_experiment(self) -> ExperimentRun | None:
        """The experiment that assigns shoppers now, if any."""
        with self._transaction() as cursor:
            row = cursor.execute(
                f"SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE stopped_at IS NULL "
                "ORDER BY run_id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else _run(row)

    def run_counts(self, run_id: int, interleaved: bool) -> RunCounts:
        """Exact counts of a run: lists and users per arm, events credited to each arm (to
        the arm that served the list; interleaving: to the team that contributed the product)."""
        credit = "s.team" if interleaved else "l.arm"
        with self._transaction() as cursor:
            lists = _pairs(
                cursor.execute(
                    "SELECT arm, COUNT(*), COUNT(DISTINCT user_id) FROM lists WHERE run_id = ? "
                    "GROUP BY arm",
                    [run_id],
                ).fetchall()
            )
            if interleaved:  # lists per arm = lists whose first product that arm picked
                lists = _pairs(
                    cursor.execute(
                        "SELECT s.team, COUNT(*), COUNT(DISTINCT l.user_id) FROM lists l "
                        "JOIN shown s ON s.ranking_id = l.ranking_id AND s.position = 1 "
                        "WHERE l.run_id = ? GROUP BY s.team",
                        [run_id],
                    ).fetchall()
                )
            totals = cursor.execute(
                "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM lists WHERE run_id = ?", [run_id]
            ).fetchone()
            credited = cursor.execute(
                f"SELECT {credit}, e.type, COUNT(*), COUNT(DISTINCT e.ranking_id) FROM events e "
                "JOIN lists l ON l.ranking_id = e.ranking_id "
                "JOIN shown s ON s.ranking_id = e.ranking_id AND s.product_id = e.product_id "
                f"WHERE l.run_id = ? GROUP BY {credit}, e.type",
                [run_id],
            ).fetchall()
            team_clicks: dict[str, dict[str, int]] = defaultdict(dict)
            if interleaved:
                for ranking_id, team, clicks in cursor.execute(
                    "SELECT e.ranking_id, s.team, COUNT(*) FROM events e "
                    "JOIN lists l ON l.ranking_id = e.ranking_id "
                    "JOIN shown s ON s.ranking_id = e.ranking_id AND s.product_id = e.product_id "
                    "WHERE l.run_id = ? AND e.type = 'click' GROUP BY e.ranking_id, s.team",
                    [run_id],
                ).fetchall():
                    team_clicks[ranking_id][team] = int(clicks)
        return RunCounts(
            lists={arm: n for arm, (n, _) in lists.items()},
            users={arm: u for arm, (_, u) in lists.items()},
            total_lists=int(totals[0]),
            total_users=int(totals[1]),
            events={(arm, kind): int(n) for arm, kind, n, _ in credited},
            lists_with={(arm, kind): int(n) for arm, kind, _, n in credited},
            team_clicks=dict(team_clicks),
        )


class _Cursor:
    """A DB-API cursor that takes statements written with `?` placeholders."""

    def __init__(self, cursor: Any, dialect: Any) -> None:
        self._cursor, self._dialect = cursor, dialect

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        self._cursor.execute(self._dialect(statement), params)
        return self._cursor

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._dialect(statement), rows)

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


def _list_row(s: ServedList) -> tuple[Any, ...]:
    return (
        s.ranking_id,
        s.served_at,
        s.user_id,
        s.route,
        s.query,
        s.model,
        s.experiment,
        s.arm,
        s.run_id,
    )


def _times(e: StoredEvent) -> tuple[float, float]:
    return e.at, e.received_at


def _pairs(rows: Sequence[Sequence[Any]]) -> dict[str, tuple[int, int]]:
    return {str(arm): (int(n), int(users)) for arm, n, users in rows if arm is not None}


def _run(row: Sequence[Any]) -> ExperimentRun:
    run_id, name, design, arms, started_at, stopped_at = row
    return ExperimentRun(
        int(run_id), name, design, msgspec.json.decode(arms), started_at, stopped_at
    )
