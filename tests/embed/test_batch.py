"""`lookalike embed` on a catalogue slice: every model, manifests, categories, skipping."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.registry import MODELS
from core.settings import Settings
from embed.batch import embed_catalog
from embed.hybrid import DEFAULT_HYBRID
from embed.loader import NetworkLoader
from tests.embed.conftest import IMAGELESS


@pytest.fixture(scope="module")
def embedded(settings: Settings, weights_dir: Path) -> Settings:
    embed_catalog(settings, list(MODELS), NetworkLoader(weights_dir=weights_dir), workers=0)
    return settings


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_gives_finite_unit_vectors_of_its_dimension(
    embedded: Settings, model: str
) -> None:
    out = embedded.embeddings_dir / model
    vectors = np.load(out / "vectors.npy")
    ids = np.load(out / "ids.npy")
    manifest = json.loads((out / "manifest.json").read_text())
    assert vectors.dtype == np.float32 and ids.dtype == np.int64
    assert vectors.shape == (len(ids), MODELS[model].dim) == (manifest["count"], manifest["dim"])
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    expected_source = "package" if model == "clip_text" else "catalog"
    assert manifest["weights"]["source"] == expected_source
    assert len(manifest["weights"]["sha256"]) == 64


def test_image_models_skip_products_without_image_text_model_keeps_them(embedded: Settings) -> None:
    products = pd.read_parquet(embedded.catalog_dir / "products.parquet")
    for model in ("resnet", "efficientnet", "clip", "hybrid"):
        ids = set(np.load(embedded.embeddings_dir / model / "ids.npy").tolist())
        assert ids.isdisjoint(IMAGELESS) and ids == set(products.loc[products["has_image"], "id"])
    assert set(np.load(embedded.embeddings_dir / "clip_text" / "ids.npy").tolist()) == set(
        products["id"]
    )


def test_hybrid_manifest_records_weights(embedded: Settings) -> None:
    manifest = json.loads((embedded.embeddings_dir / "hybrid" / "manifest.json").read_text())
    assert manifest["hybrid_weights"] == asdict(DEFAULT_HYBRID)
    assert manifest["text_weights"]["source"] == "package"


def test_categories_are_sorted_article_types_with_text_vectors(embedded: Settings) -> None:
    out = embedded.embeddings_dir / "categories"
    names = json.loads((out / "names.json").read_text())
    vectors = np.load(out / "vectors.npy")
    products = pd.read_parquet(embedded.catalog_dir / "products.parquet")
    assert names == sorted(products["articleType"].dropna().unique())
    assert vectors.shape == (len(names), MODELS["clip_text"].dim)


def test_up_to_date_models_are_skipped(
    embedded: Settings, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (embedded.embeddings_dir / "clip" / "vectors.npy").stat().st_mtime_ns
    embed_catalog(embedded, ["clip"], NetworkLoader(weights_dir=weights_dir), workers=0)
    assert "clip: up to date, skipped" in capsys.readouterr().out
    assert (embedded.embeddings_dir / "clip" / "vectors.npy").stat().st_mtime_ns == before
