"""The embedded event store: one SQLite file under `data/` (WAL, synchronous=FULL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from events.store import EventStore


class SqliteEventStore(EventStore):
    """Events and served lists in a local SQLite file, durable once a call returns."""

    down = (sqlite3.OperationalError,)

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__()

    def _connect(self) -> Any:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    def _begin_exclusive(self, cursor: Any) -> None:
        cursor.execute("BEGIN IMMEDIATE")  # the write lock before reading what runs
