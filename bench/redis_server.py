"""Debian's `redis-server` on a free loopback port, without persistence (tests and benchmarks)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench.server import free_port
from core.errors import LookalikeError

START_TIMEOUT_S = 20.0


class RedisServer:
    """One redis-server process; `start` again after `stop` reuses the port (an outage)."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = free_port(), folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait for PING; a LookalikeError says how to install it when missing."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise LookalikeError("redis-server is missing: `make system` installs it (Debian)")
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), *options, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise LookalikeError(f"redis-server did not answer PING on port {self.port}")
            time.sleep(0.1)

    def answers(self) -> bool:
        """Whether the server answers PING."""
        ping = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
        )
        return ping.stdout.strip() == b"PONG"

    def stop(self) -> None:
        """Kill the server (as an outage would)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
