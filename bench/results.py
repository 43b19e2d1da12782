"""Benchmark results on disk: one JSON document per benchmark under `bench/results/`."""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.process import cpu_count
from bench.suites import SUITES

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCHMARKS = (*(suite.name for suite in SUITES), "all")


def _finite(value: Any) -> Any:
    """NaN and infinities become null, so the files are strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def save(out: Path, name: str, body: dict[str, Any], seconds: float) -> Path:
    """Write `<out>/<name>.json` with the run's metadata (when, how long, on what)."""
    document = {
        "meta": {
            "benchmark": name,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": seconds,
            "cpus": cpu_count(),
            "load_avg": list(os.getloadavg()),
            "python": platform.python_version(),
        },
        **body,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(_finite(document), indent=1) + "\n")
    return path


def load_all(out: Path) -> dict[str, dict[str, Any]]:
    """Every benchmark document present in `out`, by name."""
    return {
        name: json.loads((out / f"{name}.json").read_text())
        for name in BENCHMARKS
        if (out / f"{name}.json").is_file()
    }
