"""compose.yaml and the Dockerfile: the services, ports, volumes and the cluster profile."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from typing import Any

import pytest

from tests.store.compose_file import COMPOSE_FILE, load_compose
from tests.store.docker_engine import docker_unavailable_reason

NODES = ("qdrant-node-1", "qdrant-node-2", "qdrant-node-3")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def test_default_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"qdrant", "api", "ui"} <= services.keys()
    for name in ("qdrant", "api", "ui"):
        assert "profiles" not in services[name], f"{name} must start without a profile"


def test_qdrant_service(compose: dict[str, Any]) -> None:
    qdrant = compose["services"]["qdrant"]
    assert qdrant["image"].startswith("qdrant/qdrant:v")
    assert {"6333:6333", "6334:6334"} <= set(qdrant["ports"])
    volume, mount = qdrant["volumes"][0].split(":")
    assert mount == "/qdrant/storage"
    assert volume in compose["volumes"], "the storage must be a persistent named volume"


def test_api_replicas_behind_one_port_share_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = services["api"]
    assert api["build"] == "."
    assert api["command"] == ["lookalike", "serve", "--host", "0.0.0.0", "--backend", "qdrant"]
    assert api["environment"]["QDRANT_URL"] == "http://qdrant:6333"
    assert api["environment"]["LOOKALIKE_REDIS_URL"] == "redis://redis:6379/0"
    assert api["deploy"]["replicas"] >= 2 and "ports" not in api
    assert {"qdrant", "redis"} <= set(api["depends_on"])
    assert services["redis"]["image"].startswith("redis:")
    lb = services["lb"]
    assert "8000:8000" in lb["ports"] and "api" in lb["depends_on"]
    source, target = lb["volumes"][0].split(":")[:2]
    config = (COMPOSE_FILE.parent / source).read_text()
    assert target == "/etc/nginx/conf.d/default.conf"
    assert "listen 8000" in config and "http://api:8000" in config and "resolver" in config


def test_ui_service(compose: dict[str, Any]) -> None:
    ui = compose["services"]["ui"]
    assert ui["build"] == "."
    assert ui["command"] == [
        "lookalike",
        "ui",
        "--host",
        "0.0.0.0",
        "--api-url",
        "http://lb:8000",
    ]
    assert "7860:7860" in ui["ports"]
    assert "lb" in ui["depends_on"]


def test_cluster_profile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    volumes = set()
    for node in NODES:
        service = services[node]
        assert service["profiles"] == ["cluster"]
        assert service["image"] == services["qdrant"]["image"]
        assert service["environment"]["QDRANT__CLUSTER__ENABLED"] == "true"
        assert service["command"][0] == "./qdrant"
        assert f"http://{node}:6335" in service["command"]
        volume, mount = service["volumes"][0].split(":")
        assert mount == "/qdrant/storage" and volume in compose["volumes"]
        volumes.add(volume)
    assert len(volumes) == len(NODES), "each node needs its own volume"
    first = services[NODES[0]]
    assert "--uri" in first["command"] and "--bootstrap" not in first["command"]
    for node in NODES[1:]:
        command = services[node]["command"]
        assert command[command.index("--bootstrap") + 1] == f"http://{NODES[0]}:6335"
        assert NODES[0] in services[node]["depends_on"]
    published = [p.split(":")[0] for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), "host ports must not clash between services"


def test_dockerfile() -> None:
    dockerfile = (COMPOSE_FILE.parent / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "torch==2.14.1 torchvision==0.29.1" in dockerfile
    assert "--index-url https://download.pytorch.org/whl/cpu" in dockerfile
    assert "RUN pip install ." in dockerfile
    pyproject = tomllib.loads((COMPOSE_FILE.parent / "pyproject.toml").read_text())
    for package in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        name = package.rstrip("*")
        assert f"COPY {name}/ {name}/" in dockerfile, f"the image lacks the {name} package"


def test_docker_compose_accepts_the_file() -> None:
    reason = docker_unavailable_reason()
    if reason is not None or shutil.which("docker") is None:
        pytest.skip(f"`docker compose config` needs a Docker engine: {reason}")
    for profile in ([], ["--profile", "cluster"]):
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), *profile, "config", "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
