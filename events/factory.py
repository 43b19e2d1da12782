"""The event store a URL names: PostgreSQL, a SQLite file, or the embedded default."""

from __future__ import annotations

from pathlib import Path

from core.errors import LookalikeError
from events.postgres import PostgresEventStore
from events.sqlite import SqliteEventStore
from events.store import EVENTS_FILE, EventStore


def open_event_store(url: str | None, data_dir: Path) -> EventStore:
    """The store `url` names (`postgresql://…` or `sqlite:///path`), else `data/events.sqlite`."""
    if url and url.startswith(("postgresql://", "postgres://")):
        return PostgresEventStore(url)
    if url:
        if not url.startswith("sqlite:///"):
            raise LookalikeError(
                f"LOOKALIKE_EVENTS_URL {url!r} is neither postgresql://… nor sqlite:///path"
            )
        return SqliteEventStore(Path(url.removeprefix("sqlite:///")))
    return SqliteEventStore(data_dir / EVENTS_FILE)
