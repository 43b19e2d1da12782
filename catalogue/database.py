"""The catalogue's one owner: product metadata in SQLite, versioned, with a log of every write.

`lookalike ingest` fills it; the API's write endpoints change it one product at a time; embed,
index and the API read it. The version grows by one with every write (an ingest counts as one),
so anything derived from the catalogue can say which version it reflects.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import LookalikeError
from core.schema import FASHION, CatalogueSchema, schema_from_mapping
from ingest.table import numeric_dtype

# What the catalogue adds to every product's schema fields.
IMAGE_TEXT_FIELDS = ("name", "image_issue", "image_sha1", "image_file")
INT_FIELDS = ("pixel_row", "duplicate_group")
TABLES = """
CREATE TABLE IF NOT EXISTS changes (
    version INTEGER PRIMARY KEY,
    id INTEGER,
    op TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
Record = dict[str, Any]


@dataclass(frozen=True)
class ProductColumns:
    """The products table's columns for a catalogue schema."""

    schema: CatalogueSchema

    @property
    def text(self) -> tuple[str, ...]:
        """Columns stored as text."""
        return (*self.schema.text_fields, *IMAGE_TEXT_FIELDS)

    @property
    def numeric(self) -> tuple[str, ...]:
        """The schema's numeric fields (integers stay integers, others are reals)."""
        return self.schema.numeric

    @property
    def all(self) -> tuple[str, ...]:
        """Every column, in table order."""
        return ("id", *self.text, *self.numeric, *INT_FIELDS, "has_image", "version")

    def create(self) -> str:
        """The products table's CREATE statement."""
        return f"""CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    {", ".join(f'"{c}" TEXT' for c in self.text)},
    {"".join(f'"{c}" NUMERIC, ' for c in self.numeric)}{", ".join(f"{c} INTEGER" for c in INT_FIELDS)},
    has_image INTEGER NOT NULL,
    version INTEGER NOT NULL
)"""


class CatalogueNotReadyError(LookalikeError):
    """The catalogue database does not exist yet."""


class LiveWritesError(LookalikeError):
    """An ingest would overwrite products written through the API."""


@dataclass(frozen=True)
class Change:
    """One logged write: the catalogue version it produced, the product and put/delete."""

    version: int
    id: int | None
    op: str


@dataclass(frozen=True)
class CatalogueStats:
    """Counts and the state of the catalogue."""

    products: int
    with_image: int
    without_image: int
    version: int
    last_write: str | None
    fingerprint: str | None


class CatalogueDB:
    """The catalogue database; safe to share between threads (one connection per thread)."""

    def __init__(self, path: Path, create: bool = False) -> None:
        if not create and not path.is_file():
            raise CatalogueNotReadyError(
                f"no catalogue database at {path}: run `lookalike ingest` first"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            self._connection().executescript(TABLES)
        stored = self._meta("schema")
        self.schema = (
            FASHION if stored is None else schema_from_mapping(json.loads(stored), str(path))
        )
        self.columns = ProductColumns(self.schema)
        with self._write_lock:
            self._connection().execute(self.columns.create())

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")  # acknowledged writes survive a crash
            self._local.connection = connection
        return connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction at a time, across threads and processes."""
        with self._write_lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def publishing(self, exclusive: bool) -> Iterator[None]:
        """A lock across processes on what the collections hold.

        A writer holds it exclusively from its commit until every collection has the write (or
        it was rolled back); a process taking in others' writes holds it shared, so it never
        takes in (and caches answers under) a version whose collections are not written yet.
        """
        with self.path.with_name(self.path.name + ".lock").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield  # closing the file releases the lock

    def _meta(self, key: str) -> str | None:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def version(self) -> int:
        """The catalogue version: 0 when empty, one more after every write."""
        return int(self._meta("version") or 0)

    @property
    def fingerprint(self) -> str | None:
        """The source fingerprint of the last ingest that filled the catalogue."""
        return self._meta("fingerprint")

    def identity(self) -> str:
        """A short name for exactly this catalogue state (last ingest + version)."""
        return f"{(self.fingerprint or 'empty')[:16]}-v{self.version}"

    def get(self, product_id: int) -> Record | None:
        """One product's row, or None."""
        row = (
            self._connection()
            .execute("SELECT * FROM products WHERE id = ?", (product_id,))
            .fetchone()
        )
        return None if row is None else dict(row)

    def records(self) -> list[Record]:
        """Every product row, in id order."""
        rows = self._connection().execute("SELECT * FROM products ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    def frame(self) -> pd.DataFrame:
        """Every product, typed as the ingest table (string, Int64 and bool columns)."""
        records = self.records()
        frame = pd.DataFrame.from_records(records, columns=list(self.columns.all))
        types: dict[str, str] = {c: "string" for c in self.columns.text}
        types |= {c: "Int64" for c in INT_FIELDS}
        for column in self.columns.numeric:
            types[column] = numeric_dtype([r[column] for r in records])
        return frame.astype({**types, "id": "int64", "has_image": "bool", "version": "int64"})

    def find(self, words: Sequence[str], limit: int) -> list[Record]:
        """Products whose name contains every word (any case), shortest names first."""
        where = " AND ".join("instr(lower(name), ?) > 0" for _ in words) or "name IS NOT NULL"
        rows = self._connection().execute(
            f"SELECT * FROM products WHERE {where} ORDER BY length(name), id LIMIT ?",
            (*(w.lower() for w in words), limit),
        )
        return [dict(row) for row in rows]

    def changes_since(self, version: int) -> list[Change]:
        """The writes after `version`, oldest first."""
        rows = self._connection().execute(
            "SELECT version, id, op FROM changes WHERE version > ? ORDER BY version", (version,)
        )
        return [Change(int(v), None if i is None else int(i), str(op)) for v, i, op in rows]

    def stats(self) -> CatalogueStats:
        """Product counts, version and last write time."""
        total, with_image = (
            self._connection()
            .execute("SELECT count(*), coalesce(sum(has_image), 0) FROM products")
            .fetchone()
        )
        written = self._meta("last_write")
        last = None if written is None else datetime.fromtimestamp(float(written), UTC).isoformat()
        return CatalogueStats(
            total, with_image, total - with_image, self.version, last, self.fingerprint
        )

    def put(self, record: Mapping[str, Any]) -> int:
        """Insert or replace one product; returns the new catalogue version."""
        with self._writing() as db:
            version = self._bump(db, "put", int(record["id"]))
            names = self.columns.all
            row = {c: record.get(c) for c in names} | {"version": version}
            columns = ", ".join(f'"{c}"' for c in names)
            marks = ", ".join(f":{c}" for c in names)
            db.execute(f"INSERT OR REPLACE INTO products ({columns}) VALUES ({marks})", row)
            return version

    def delete(self, product_id: int) -> int:
        """Remove one product; returns the new catalogue version."""
        with self._writing() as db:
            version = self._bump(db, "delete", product_id)
            db.execute("DELETE FROM products WHERE id = ?", (product_id,))
            return version

    def fill(
        self,
        schema: CatalogueSchema,
        frame: pd.DataFrame,
        fingerprint: str,
        discard_live_writes: bool,
    ) -> int:
        """Replace every product with an ingested table laid out by `schema` (kept with the
        catalogue: a new schema gives a new products table); returns the new version.

        Products written through the API since the last fill would be lost: refused unless
        `discard_live_writes`.
        """
        columns = ProductColumns(schema)
        with self._writing() as db:
            if not discard_live_writes:
                self.refuse_if_live_writes()
            version = self._bump(db, "fill", None)
            db.execute("DROP TABLE products")
            db.execute(columns.create())
            rows = frame.reindex(columns=list(columns.all)).astype(object)
            rows = rows.where(rows.notna(), None)
            rows["version"] = version
            marks = ", ".join("?" for _ in columns.all)
            names = ", ".join(f'"{c}"' for c in columns.all)
            db.executemany(
                f"INSERT INTO products ({names}) VALUES ({marks})",
                rows.itertuples(index=False, name=None),
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("fingerprint", fingerprint),
                    ("filled_version", str(version)),
                    ("schema", json.dumps(schema.as_dict())),
                ],
            )
        self.schema, self.columns = schema, columns
        return version

    def refuse_if_live_writes(self) -> None:
        """LiveWritesError if products were written through the API since the last fill."""
        live = (
            self._connection()
            .execute(
                "SELECT count(DISTINCT id) FROM changes WHERE op != 'fill' AND version > ?",
                (int(self._meta("filled_version") or 0),),
            )
            .fetchone()[0]
        )
        if live:
            raise LiveWritesError(
                f"{live} products were written through the API since the last ingest; an "
                "ingest would replace them with the source's rows. Apply the source on top of "
                "them with `lookalike sync --source DIR` (the API must run), or start again "
                "from the source with `lookalike ingest --discard-live-writes`"
            )

    def _bump(self, db: sqlite3.Connection, op: str, product_id: int | None) -> int:
        version = int(self._meta("version") or 0) + 1
        now = time.time()
        db.execute("INSERT INTO changes VALUES (?, ?, ?, ?)", (version, product_id, op, now))
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("version", str(version)), ("last_write", repr(now))],
        )
        return version

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
