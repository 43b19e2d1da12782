"""Every event-store test runs against the embedded SQLite store and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.postgres_server import PostgresServer
from events.factory import open_event_store
from events.store import EventStore


@pytest.fixture(params=["sqlite", "postgresql"])
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """A fresh, empty event store of each engine."""
    if request.param == "sqlite":
        store = open_event_store(f"sqlite:///{tmp_path / 'events.sqlite'}", tmp_path)
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        store = open_event_store(server.new_database(), tmp_path)
    yield store
    store.close()
