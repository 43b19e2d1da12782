"""One typed settings object: environment variables first, CLI flags override."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

OFF = ("off", "0", "false", "no")
DATABASE_FILE = "catalogue.sqlite"  # in the data folder: the catalogue database


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    """Where Lookalike reads and writes, and which services it talks to."""

    source: Path = field(default_factory=lambda: _env_path("LOOKALIKE_SOURCE", "data/raw"))
    data_dir: Path = field(default_factory=lambda: _env_path("LOOKALIKE_DATA", "data"))
    backend: str = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_BACKEND", "qdrant-embedded")
    )
    qdrant_url: str = field(
        default_factory=lambda: os.environ.get("QDRANT_URL", "http://localhost:6333")
    )
    qdrant_api_key: str | None = field(default_factory=lambda: os.environ.get("QDRANT_API_KEY"))
    api_key: str | None = field(default_factory=lambda: os.environ.get("LOOKALIKE_API_KEY") or None)
    api_url: str = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_API_URL", "http://127.0.0.1:8000")
    )
    cache: bool = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_CACHE", "on").lower() not in OFF
    )
    redis_url: str | None = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_REDIS_URL") or None
    )
    # Writes and photo uploads per client: "<count>/<second|minute|hour|day>".
    write_limit: str = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_WRITE_LIMIT", "600/minute")
    )

    # The event store: embedded SQLite under data/ unless postgresql://… or sqlite:///path.
    events_url: str | None = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_EVENTS_URL") or None
    )
    # The key storefronts send events with (separate from the catalogue's write key).
    events_key: str | None = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_EVENTS_KEY") or None
    )
    # Log every served list (off only to measure what logging costs).
    list_log: bool = field(
        default_factory=lambda: os.environ.get("LOOKALIKE_LIST_LOG", "on").lower() not in OFF
    )

    # The share of static lists that show a few lower recalled candidates (exploration).
    rankers: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["LOOKALIKE_RANKERS"]) if os.environ.get("LOOKALIKE_RANKERS") else None
        )
    )
    explore: float = field(default_factory=lambda: float(os.environ.get("LOOKALIKE_EXPLORE", "0")))

    @property
    def catalog_dir(self) -> Path:
        """The validated catalogue written by `lookalike ingest`."""
        return self.data_dir / "catalog"

    @property
    def catalogue_db(self) -> Path:
        """The catalogue service's SQLite database: product metadata, version, write log."""
        return self.data_dir / DATABASE_FILE

    @property
    def embeddings_dir(self) -> Path:
        """Per-model vectors written by `lookalike embed`."""
        return self.data_dir / "embeddings"

    @property
    def rankers_dir(self) -> Path:
        """Trained ranker versions (`lookalike ranker train`) and the one to serve (LATEST):
        env LOOKALIKE_RANKERS, else `rankers/` in the data folder."""
        return self.rankers or self.data_dir / "rankers"

    @property
    def qdrant_dir(self) -> Path:
        """On-disk home of the embedded Qdrant collections."""
        return self.data_dir / "qdrant"

    @property
    def faiss_dir(self) -> Path:
        """On-disk home of the FAISS indexes."""
        return self.data_dir / "faiss"

    def override(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced; `None` values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
