"""Whether a Docker engine answers, decided quickly (the CLI alone is not enough)."""

from __future__ import annotations

import functools

import docker
from docker.errors import DockerException


@functools.cache
def docker_unavailable_reason() -> str | None:
    """None if a Docker engine answers a ping within 2 s, else why not."""
    try:
        client = docker.from_env(timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, OSError) as exc:  # requests errors are OSErrors
        return f"no Docker engine reachable ({exc.__class__.__name__}: {exc})"
    return None
