"""HTTP load from wrk (Debian's C benchmark): request paths from a file, a JSON summary back.

A C client leaves the two cores to the server far more than Python client threads do, so
`/recommend` and the `/health` floor are measured the way the issue measured them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import LookalikeError

# Each wrk thread walks the path list from its own offset; `done` prints one JSON line.
SCRIPT = r"""
local paths, n, i = {}, 0, 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads * 7919)
end
function init(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  i = offset % n
end
function request()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def uniform_paths(template: str, ids: Sequence[int], count: int, seed: int) -> list[str]:
    """`count` paths of uniformly random products."""
    rng = np.random.default_rng(seed)
    return [template.format(id=int(i)) for i in rng.choice(np.asarray(ids), size=count)]


def zipf_paths(
    template: str, ids: Sequence[int], count: int, exponent: float, seed: int
) -> list[str]:
    """`count` paths whose products follow Zipf's law (rank r drawn ∝ r^-exponent); which
    products are popular is a random permutation of the catalogue."""
    rng = np.random.default_rng(seed)
    popular = rng.permutation(np.asarray(ids))
    ranks: list[int] = []
    while len(ranks) < count:
        draw = rng.zipf(exponent, size=count)
        ranks.extend(int(r) for r in draw[draw <= len(popular)])
    return [template.format(id=int(popular[r - 1])) for r in ranks[:count]]


def run_wrk(url: str, paths: Sequence[str], connections: int, seconds: float) -> dict[str, Any]:
    """Closed-loop load at `connections` keep-alive connections for `seconds`."""
    binary = shutil.which("wrk")
    if binary is None:
        raise LookalikeError("wrk is missing: `make system` installs it (Debian package wrk)")
    threads = min(connections, 2)
    with tempfile.TemporaryDirectory(prefix="lookalike-wrk-") as folder:
        script, listing = Path(folder) / "paths.lua", Path(folder) / "paths.txt"
        script.write_text(SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        command = [binary, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
        command += ["--timeout", "10s", "-s", str(script), url, "--", str(listing)]
        run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise LookalikeError(f"wrk failed ({run.returncode}): {run.stderr[-1000:]}")
    raw = json.loads(run.stdout.strip().splitlines()[-1])
    duration_s = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non_2xx"]
    return {
        "connections": connections,
        "seconds": duration_s,
        "requests": raw["requests"],
        "errors": raw["non_2xx"] + raw["socket_errors"],
        "throughput_rps": ok / duration_s if duration_s else 0.0,
        "p50_ms": raw["p50_us"] / 1e3,
        "p99_ms": raw["p99_us"] / 1e3,
        "mean_ms": raw["mean_us"] / 1e3,
    }
