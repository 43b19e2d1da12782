"""A real `lookalike serve` subprocess for the end-to-end load test."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.errors import LookalikeError

READY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Server:
    """A running API: where it answers, its process id and how long it took to become ready."""

    url: str
    pid: int
    startup_s: float


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LookalikeError(
                f"`lookalike serve` exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(f"{url}/ready", timeout=2.0)
            if answer.status_code == 200:
                return
            if answer.status_code != 503:  # 503: still loading; anything else will not improve
                raise LookalikeError(f"/ready answered {answer.status_code}: {answer.text[:500]}")
        time.sleep(0.5)
    raise LookalikeError(
        f"`lookalike serve` not ready after {timeout:.0f} s: {log.read_text()[-2000:]}"
    )


@contextlib.contextmanager
def running_server(
    data_dir: Path,
    backend: str,
    timeout: float = READY_TIMEOUT_S,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """Start `lookalike serve` on a free port, wait until /ready answers 200, stop it afterwards.

    `env` adds environment variables (e.g. LOOKALIKE_API_KEY) to the server's; `args` adds
    `serve` options (e.g. --workers 2)."""
    port = free_port()
    command = [sys.executable, "-m", "lookalike.cli", "--data-dir", str(data_dir)]
    command += ["serve", "--port", str(port), "--backend", backend, *args]
    with tempfile.TemporaryDirectory(prefix="lookalike-serve-") as folder:
        log = Path(folder) / "serve.log"
        with log.open("wb") as output:
            started = time.monotonic()
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=os.environ | (env or {})
            )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_ready(url, process, log, timeout)
                yield Server(url, process.pid, time.monotonic() - started)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
