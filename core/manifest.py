"""The embedding manifest (`<embeddings_dir>/<model>/manifest.json`): one writer, one reader.

`lookalike embed` writes it beside the vectors; it says what produced them (model, network,
weights, catalogue identity and version, dim, count). Indexing checks vectors against it, the
API reads the weights it names, the benchmarks the hybrid weights it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
Manifest = dict[str, Any]


def manifest_path(folder: Path) -> Path:
    """Where the manifest of an embeddings folder lives."""
    return folder / MANIFEST_FILE


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write the manifest into `folder` (inside an atomic swap, see `embed.batch`)."""
    manifest_path(folder).write_text(json.dumps(manifest, indent=2) + "\n")


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of an embeddings folder, or None when there is none."""
    path = manifest_path(folder)
    return json.loads(path.read_bytes()) if path.is_file() else None


def read_manifest_checked(folder: Path) -> tuple[Manifest, str]:
    """The manifest and the sha256 of its bytes (what a build records it was made from)."""
    raw = manifest_path(folder).read_bytes()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def read_manifests(embeddings_dir: Path, models: Iterable[str]) -> dict[str, Manifest]:
    """The manifest of every model in `models` that has one."""
    found = {model: read_manifest(embeddings_dir / model) for model in models}
    return {model: manifest for model, manifest in found.items() if manifest is not None}
