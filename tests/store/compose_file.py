"""The repository's compose.yaml, parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "compose.yaml"


def load_compose() -> dict[str, Any]:
    """compose.yaml as a dict."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def qdrant_image() -> str:
    """The Qdrant image compose runs (the container tests use the same one)."""
    image: str = load_compose()["services"]["qdrant"]["image"]
    return image
