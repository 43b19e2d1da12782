"""Where a network's weights come from, parsed without loading any ML library (fast CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["hub", "file", "catalog"]


@dataclass(frozen=True)
class WeightsSource:
    """Where a network's weights come from: `catalog`, `hub:<tag>` or a file path."""

    kind: SourceKind
    ref: str = ""

    def __str__(self) -> str:
        return {"catalog": "catalog", "hub": f"hub:{self.ref}", "file": self.ref}[self.kind]


CATALOG = WeightsSource("catalog")


def parse_source(text: str) -> WeightsSource:
    """`catalog`, `hub:<tag>` or a path to a weights file."""
    if text == "catalog":
        return CATALOG
    if text.startswith("hub:"):
        return WeightsSource("hub", text.removeprefix("hub:"))
    return WeightsSource("file", text)
