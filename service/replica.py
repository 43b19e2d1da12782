"""The catalogue as this process serves it: an in-memory copy of the database, and the lock
protocol every write and every build switch follows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from catalogue.database import CatalogueDB, Record


class CatalogueReplica:
    """The products of the catalogue database, kept in memory and brought up to date with the
    writes of every process (`refresh`)."""

    def __init__(self, database: CatalogueDB) -> None:
        self.database = database
        self._write_lock = threading.RLock()
        self._records: dict[int, Record] = {}
        self._with_image: list[int] = []
        self.version = -1
        self.refresh()

    def get(self, product_id: int) -> Record | None:
        """One product's catalogue row, or None."""
        return self._records.get(product_id)

    def ids_with_image(self) -> list[int]:
        """Ids of products with a usable image (a snapshot)."""
        return self._with_image

    def refresh(self) -> None:
        """Take in writes other processes made to the database since we last looked (only once
        their writer has written them to the collections too)."""
        if self.database.version == self.version:
            return
        with self._write_lock, self.database.publishing(exclusive=False):
            self.take_in_changes()

    def take_in_changes(self) -> None:
        """Read the database's changes since our version (a write lock is held)."""
        changes = self.database.changes_since(self.version)
        seen = max([self.version, *(c.version for c in changes)])
        if self.version < 0 or any(c.op == "fill" for c in changes):
            self._records = {int(r["id"]): r for r in self.database.records()}
        else:
            for change in changes:
                if change.id is not None:
                    self._set(change.id, self.database.get(change.id))
        self._with_image = [i for i, r in self._records.items() if r["has_image"]]
        self.version = seen  # writes after `changes` was read come in the next refresh

    def remember(self, product_id: int, record: Record | None) -> None:
        """Our own write's new state of a product (None: deleted)."""
        self._set(product_id, record)
        self._with_image = [i for i, r in self._records.items() if r["has_image"]]

    def _set(self, product_id: int, record: Record | None) -> None:
        if record is None:
            self._records.pop(product_id, None)
        else:
            self._records[product_id] = record

    def advance(self, version: int) -> None:
        """Our own write's version; after a gap (another process wrote meanwhile) `refresh`
        takes in the missing writes first."""
        if version == self.version + 1:
            self.version = version

    def writing(self) -> threading.RLock:
        """The lock every write holds: hold it to keep writes out (e.g. while switching builds)."""
        return self._write_lock

    @contextmanager
    def publishing(self) -> Iterator[None]:
        """Hold the write lock of this process and of every process (`CatalogueDB.publishing`)
        with the others' writes taken in, so a write builds on the latest state of a product."""
        with self._write_lock, self.database.publishing(exclusive=True):
            self.take_in_changes()
            yield
