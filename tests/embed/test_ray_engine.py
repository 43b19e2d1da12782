"""`lookalike embed --engine ray` on a real local Ray cluster (`ray start --head`), against the
local engine's files: the same ids, the same vectors to 1e-5, the same manifests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.registry import MODELS
from core.settings import Settings
from tests.api.live import copy_data
from tests.serving import free_port

BIN = Path(sys.executable).parent
# A loopback-only test cluster: no token (Ray's token would live in ~/.ray, shared with whatever
# else ran Ray on this machine). A real cluster keeps its own authentication setting.
RAY_ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster in its own process group; yields its address."""
    port = free_port()
    log = tmp_path_factory.mktemp("ray") / "head.log"
    with log.open("wb") as output:
        options = ["--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"]
        head = subprocess.Popen(
            [str(BIN / "ray"), "start", "--head", "--block", f"--port={port}", *options],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=RAY_ENV,
        )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while b"Ray runtime started" not in log.read_bytes():
        if head.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"`ray start --head` failed: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    yield address
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def test_ray_engine_writes_the_local_engines_files(
    slice_snapshot: Settings, ray_cluster: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for part in ("catalog", "catalogue.sqlite"):
        source = slice_snapshot.data_dir / part
        if source.is_dir():
            shutil.copytree(source, data / part, symlinks=True)
        else:
            shutil.copy2(source, data / part)
    command = [str(BIN / "lookalike"), "--data-dir", str(data), "embed", "--engine", "ray"]
    command += ["--address", ray_cluster, "--actors", "2"]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=1200, check=False, env=RAY_ENV
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "(ray):" in run.stdout
    for model in MODELS:
        local, remote = slice_snapshot.embeddings_dir / model, data / "embeddings" / model
        assert np.array_equal(np.load(remote / "ids.npy"), np.load(local / "ids.npy")), model
        np.testing.assert_allclose(
            np.load(remote / "vectors.npy"), np.load(local / "vectors.npy"), atol=1e-5
        )
        assert json.loads((remote / "manifest.json").read_text()) == json.loads(
            (local / "manifest.json").read_text()
        )


def test_an_unreachable_cluster_is_a_clear_error(slice_snapshot: Settings, tmp_path: Path) -> None:
    data = copy_data(slice_snapshot, tmp_path / "data").data_dir  # a failed run may not touch it
    command = [str(BIN / "lookalike"), "--data-dir", str(data), "embed"]
    command += ["--engine", "ray", "--address", f"127.0.0.1:{free_port()}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode != 0
    assert "cannot reach the Ray cluster" in run.stderr + run.stdout
