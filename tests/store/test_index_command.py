"""`lookalike index` on a small synthetic catalogue and embeddings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from qdrant_client import QdrantClient

from catalogue.database import CatalogueDB
from core.schema import FASHION
from core.settings import DATABASE_FILE, Settings
from lookalike import cli
from store import BuildOptions, MirroredStore, collection_record, open_for_serving, open_store
from store.indexing import index_models
from tests.store import synthetic

IDS = [int(i) for i in range(10, 10 + 4 * 40, 4)]
DIMS = {"clip": 12, "resnet": 20}


def write_catalogue(data_dir: Path, ids: list[int]) -> list[dict[str, Any]]:
    """A catalogue database with the columns of docs/CONTRACTS.md; returns the expected payloads."""
    rows = synthetic.payloads(ids)
    frame = pd.DataFrame(rows)
    for column in ("gender", "masterCategory", "subCategory", "articleType", "baseColour"):
        frame[column] = frame[column].astype("string")
    for column in ("season", "usage", "name"):
        frame[column] = frame[column].astype("string")
    frame["id"] = frame["id"].astype("int64")
    frame["year"] = frame["year"].astype("Int64")
    frame["productDisplayName"] = frame["name"]
    frame["has_image"] = True
    frame["image_issue"] = pd.array([None] * len(frame), dtype="string")
    frame["pixel_row"] = pd.array(range(len(frame)), dtype="Int64")
    frame["image_sha1"] = pd.array([None] * len(frame), dtype="string")
    frame["duplicate_group"] = pd.array([None] * len(frame), dtype="Int64")
    database = CatalogueDB(data_dir / DATABASE_FILE, create=True)
    version = database.fill(FASHION, frame, "synthetic", discard_live_writes=True)
    database.close()
    return [row | {"version": version} for row in rows]


def write_embeddings(
    data_dir: Path, model: str, seed: int = 0, manifest_changes: dict[str, Any] | None = None
) -> np.ndarray:
    """`data/embeddings/<model>/` as `lookalike embed` writes it; returns the vectors."""
    folder = data_dir / "embeddings" / model
    folder.mkdir(parents=True, exist_ok=True)
    vectors = synthetic.unit_vectors(len(IDS), DIMS[model], seed)
    np.save(folder / "vectors.npy", vectors)
    np.save(folder / "ids.npy", np.array(IDS, dtype=np.int64))
    manifest = {"model": model, "dim": DIMS[model], "count": len(IDS), "weights": {"seed": seed}}
    (folder / "manifest.json").write_text(json.dumps(manifest | (manifest_changes or {})))
    return vectors


@pytest.fixture(autouse=True)
def store_commands_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep other stages' (heavy) command modules out of these CLI runs."""
    assert "store" in cli.STAGES
    monkeypatch.setattr(cli, "STAGES", ("store",))


@pytest.fixture
def catalogue(data_dir: Path) -> list[dict[str, Any]]:
    return write_catalogue(data_dir, IDS)


def index(data_dir: Path, *args: str) -> int:
    return cli.main(["--data-dir", str(data_dir), "index", *args])


def live_build(data_dir: Path, backend: str, model: str) -> str:
    root = data_dir / ("qdrant" if backend == "qdrant-embedded" else "faiss")
    return (root / model / "CURRENT").read_text()


@pytest.mark.parametrize("backend", ["qdrant-embedded", "faiss"])
def test_index_builds_then_skips(
    backend: str,
    data_dir: Path,
    catalogue: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = write_embeddings(data_dir, "clip")
    write_embeddings(data_dir, "resnet")

    assert index(data_dir, "--backend", backend, "--models", "clip", "resnet") == 0
    out = capsys.readouterr().out
    assert "clip" in out and "resnet" in out and out.count("built in") == 2
    store = open_store(Settings(data_dir=data_dir), "clip", backend=backend)
    assert store.count() == len(IDS)
    assert store.info().dim == 12
    assert store.payloads([IDS[0]])[IDS[0]] == catalogue[0]
    assert store.search(clip[5], 1)[0].id == IDS[5]
    store.close()
    first = live_build(data_dir, backend, "clip")

    assert index(data_dir, "--backend", backend, "--models", "clip", "resnet") == 0
    assert capsys.readouterr().out.count("up to date") == 2
    assert live_build(data_dir, backend, "clip") == first


def test_default_models_are_the_embedded_ones(
    data_dir: Path, catalogue: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    write_embeddings(data_dir, "resnet")
    assert index(data_dir, "--backend", "faiss") == 0
    out = capsys.readouterr().out
    assert "resnet" in out and "clip" not in out


def test_a_changed_manifest_rebuilds_atomically(
    data_dir: Path, catalogue: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=data_dir)
    old = write_embeddings(data_dir, "clip", seed=0)
    assert index(data_dir, "--backend", "qdrant-embedded", "--models", "clip") == 0
    first = live_build(data_dir, "qdrant-embedded", "clip")
    reader = open_store(settings, "clip")

    new = write_embeddings(data_dir, "clip", seed=1)
    assert index(data_dir, "--backend", "qdrant-embedded", "--models", "clip") == 0
    assert "built in" in capsys.readouterr().out
    assert live_build(data_dir, "qdrant-embedded", "clip") != first

    np.testing.assert_allclose(reader.vectors([IDS[0]])[IDS[0]], old[0], atol=1e-6)
    fresh = open_store(settings, "clip")
    np.testing.assert_allclose(fresh.vectors([IDS[0]])[IDS[0]], new[0], atol=1e-6)
    reader.close()
    fresh.close()
    builds = data_dir / "qdrant" / "clip" / "builds"
    assert [p.name for p in builds.iterdir()] == [live_build(data_dir, "qdrant-embedded", "clip")]


def test_changed_options_rebuild(
    data_dir: Path, catalogue: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", "faiss", "--models", "clip") == 0
    assert index(data_dir, "--backend", "faiss", "--models", "clip", "--faiss-index", "hnsw") == 0
    assert index(data_dir, "--backend", "faiss", "--models", "clip", "--force") == 0
    assert capsys.readouterr().out.count("built in") == 3
    record = collection_record(Settings(data_dir=data_dir), "clip", backend="faiss")
    assert record is not None and record["options"] == {"faiss_index": "flat"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"dim": 16}, "dim 16"), ({"count": 39}, "39 vectors"), ({"model": "resnet"}, "not 'clip'")],
)
def test_manifest_mismatch_is_an_error_and_keeps_the_live_collection(
    changes: dict[str, Any],
    message: str,
    data_dir: Path,
    catalogue: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", "faiss", "--models", "clip") == 0
    first = live_build(data_dir, "faiss", "clip")

    write_embeddings(data_dir, "clip", seed=1, manifest_changes=changes)
    assert index(data_dir, "--backend", "faiss", "--models", "clip") == 2
    assert message in capsys.readouterr().err
    assert live_build(data_dir, "faiss", "clip") == first


def test_missing_embeddings(
    data_dir: Path, catalogue: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert index(data_dir, "--backend", "faiss") == 2
    assert "lookalike embed" in capsys.readouterr().err
    assert index(data_dir, "--backend", "faiss", "--models", "clip") == 2
    assert "no clip embeddings" in capsys.readouterr().err


def test_missing_catalogue(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", "faiss") == 2
    assert "lookalike ingest" in capsys.readouterr().err


def test_embeddings_of_unknown_products(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_catalogue(data_dir, IDS[:-2])
    write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", "faiss") == 2
    assert "2 embedded ids are not in the catalogue" in capsys.readouterr().err


def test_shards_need_the_server_backend(
    data_dir: Path, catalogue: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", "faiss", "--shards", "3") == 2
    assert "--backend qdrant only" in capsys.readouterr().err


def test_unwritable_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    write_catalogue(data_dir, IDS)
    write_embeddings(data_dir, "clip")
    (data_dir / "faiss").write_text("a file where the index folder should be")
    assert index(data_dir, "--backend", "faiss") == 2
    assert str(data_dir / "faiss") in capsys.readouterr().err


def test_indexing_into_a_server(data_dir: Path, catalogue: list[dict[str, Any]]) -> None:
    """The server path (alias switch, sharding options) with an in-process Qdrant client."""
    settings = Settings(data_dir=data_dir)
    client = QdrantClient(":memory:")
    write_embeddings(data_dir, "clip")
    options = BuildOptions(shards=3, replicas=2)
    reports = index_models(
        settings, ["clip"], backend="qdrant", options=options, client=client, progress=False
    )
    assert [(r.model, r.built, r.points) for r in reports] == [("clip", True, len(IDS))]
    again = index_models(
        settings, ["clip"], backend="qdrant", options=options, client=client, progress=False
    )
    assert not again[0].built
    assert [a.alias_name for a in client.get_aliases().aliases] == ["clip"]
    store = open_store(settings, "clip", backend="qdrant", client=client)
    assert store.count() == len(IDS)
    assert store.payloads([IDS[1]])[IDS[1]] == catalogue[1]


@pytest.mark.parametrize("backend", ["qdrant-embedded", "faiss"])
def test_serving_store_mirrors_vectors_and_takes_writes(
    backend: str, data_dir: Path, catalogue: list[dict[str, Any]]
) -> None:
    settings = Settings(data_dir=data_dir)
    clip = write_embeddings(data_dir, "clip")
    assert index(data_dir, "--backend", backend, "--models", "clip") == 0
    store = open_for_serving(settings, "clip", backend=backend)
    assert isinstance(store, MirroredStore) and store.info().details["vector_mirror"]
    direct = open_store(settings, "clip", backend=backend)
    mirrored, stored = store.vectors([IDS[0], IDS[7], 999_999]), direct.vectors(IDS[:8])
    assert set(mirrored) == {IDS[0], IDS[7]}
    np.testing.assert_allclose(mirrored[IDS[7]], stored[IDS[7]], atol=1e-6)
    np.testing.assert_allclose(mirrored[IDS[0]], clip[0], atol=1e-6)
    direct.close()
    store.delete([IDS[0]])  # writes go to the index and the mirror's overlay alike
    assert IDS[0] not in store.vectors([IDS[0]])
    store.upsert([IDS[1]], clip[2:3], [catalogue[1]])
    np.testing.assert_allclose(store.vectors([IDS[1]])[IDS[1]], clip[2], atol=1e-6)
    assert store.info().details["written_since_build"] == 2
    store.close()
    write_embeddings(data_dir, "clip", seed=1)  # embeddings changed, index not rebuilt yet
    stale = open_for_serving(settings, "clip", backend=backend)
    assert not isinstance(stale, MirroredStore)
    stale.close()
