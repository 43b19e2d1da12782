"""Whether a Docker engine answers, decided quickly (the CLI alone is not enough)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import docker
import pytest
from docker.errors import DockerException
from qdrant_client import QdrantClient


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


@contextlib.contextmanager
def qdrant_container_client() -> Iterator[QdrantClient]:
    """A client of a real Qdrant server in a container; the test skips without a Docker engine."""
    reason = docker_unavailable_reason()
    if reason is not None:
        pytest.skip(f"the Qdrant container case needs Docker: {reason}")
    from testcontainers.community.qdrant import QdrantContainer

    from tests.store.compose_file import qdrant_image

    with QdrantContainer(image=qdrant_image()) as container:
        client = container.get_client(check_compatibility=False)
        yield client
        client.close()
