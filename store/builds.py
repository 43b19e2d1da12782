"""Atomic rebuilds for on-disk indexes: numbered build folders and a pointer to the live one.

Layout under `<root>/<collection>/`: `builds/<build-id>/` (index files + `build.json`) and
`CURRENT` (the live build's id, replaced atomically). Readers hold a shared lock on their build
so it is only removed once nobody reads it; a build in progress holds an exclusive lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from store.errors import StoreDiskError, UnknownCollectionError
from store.validation import check_collection_name

POINTER = "CURRENT"
RECORD = "build.json"
LOCK = ".lock"
_OPEN_ATTEMPTS = 5


@dataclass(frozen=True)
class Build:
    """One finished build: its folder and its record (dim, options, source stamp)."""

    path: Path
    record: dict[str, Any]


class Lease:
    """A shared lock keeping a build on disk while it is read; release it when done."""

    def __init__(self, area: BuildArea, build: Build, lock_file: IO[bytes]) -> None:
        self.area = area
        self.build = build
        self._lock_file: IO[bytes] | None = lock_file

    def release(self) -> None:
        """Unlock, and remove the build if it has been replaced meanwhile (idempotent)."""
        if self._lock_file is None:
            return
        self._lock_file.close()
        self._lock_file = None
        self.area.remove_stale_builds()


class BuildArea:
    """The builds of one collection under `<root>/<collection>/`."""

    def __init__(self, root: Path, collection: str, backend: str) -> None:
        self.folder = root / check_collection_name(collection)
        self.collection = collection
        self.backend = backend

    @property
    def _builds(self) -> Path:
        return self.folder / "builds"

    def current(self) -> Build | None:
        """The live build, or None if the collection was never built."""
        try:
            build_id = (self.folder / POINTER).read_text().strip()
            record = json.loads((self._builds / build_id / RECORD).read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Build(self._builds / build_id, record)

    def lease_current(self) -> Lease:
        """The live build, locked against removal until the lease is released."""
        for _ in range(_OPEN_ATTEMPTS):
            build = self.current()
            if build is None:
                raise UnknownCollectionError(
                    f"no {self.backend} collection {self.collection!r} under {self.folder.parent}: "
                    f"run `lookalike index --backend {self.backend} --models {self.collection}`"
                )
            lock_file = (build.path / LOCK).open("rb")
            fcntl.flock(lock_file, fcntl.LOCK_SH)
            if build.path.is_dir():  # not removed while we waited for the lock
                return Lease(self, build, lock_file)
            lock_file.close()
        raise StoreDiskError(f"{self.folder} keeps changing under us: is an index running?")

    @contextlib.contextmanager
    def new_build(self, record: dict[str, Any]) -> Iterator[Path]:
        """A fresh build folder; published as current on success, deleted on error."""
        build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        path = self._builds / build_id
        try:
            path.mkdir(parents=True)
            lock_file = (path / LOCK).open("wb")
        except OSError as exc:
            raise StoreDiskError(
                f"cannot write the {self.collection} index under {self.folder}: {exc}. "
                "Point --data-dir (or LOOKALIKE_DATA) at a writable folder"
            ) from exc
        with lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield path
                (path / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True))
                _write_atomically(self.folder / POINTER, build_id)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
        self.remove_stale_builds()

    def remove_stale_builds(self) -> None:
        """Delete every build that is neither live, nor being read, nor being built."""
        live = self.current()
        if not self._builds.is_dir():
            return
        for path in self._builds.iterdir():
            if live is not None and path == live.path:
                continue
            with contextlib.suppress(OSError), (path / LOCK).open("rb") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(path)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(3)}")
    temporary.write_text(text)
    os.replace(temporary, path)
