"""The shared event store: PostgreSQL (`LOOKALIKE_EVENTS_URL=postgresql://…`), so several API
processes and hosts log to, and assign experiments from, one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from events.store import EventStore

CONNECT_TIMEOUT_S = 3


class PostgresEventStore(EventStore):
    """Events and served lists in PostgreSQL; reconnects by itself after an outage."""

    serial = "BIGSERIAL"
    down = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__()

    def _connect(self) -> Any:
        return psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _any(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def _begin_exclusive(self, cursor: Any) -> None:
        cursor.execute("LOCK TABLE experiments IN EXCLUSIVE MODE")
