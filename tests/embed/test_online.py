"""Online encoders agree with the batch path (1e-5) for catalogue images and texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.schema import FASHION
from core.settings import Settings
from embed.batch import embed_catalog
from embed.loader import NetworkLoader
from embed.online import Encoders
from embed.text import product_text
from tests.embed.catalog_fixture import RAW_CATALOGUE

SAMPLE = 12


@pytest.fixture(scope="module")
def embedded(settings: Settings, weights_dir: Path) -> Settings:
    embed_catalog(
        settings,
        ["resnet", "efficientnet", "clip", "clip_text", "hybrid"],
        NetworkLoader(weights_dir=weights_dir),
        workers=0,
    )
    return settings


@pytest.fixture(scope="module")
def encoders(weights_dir: Path) -> Encoders:
    return Encoders(weights_dir=weights_dir)


def _batch(settings: Settings, model: str, ids: list[int]) -> np.ndarray:
    out = settings.embeddings_dir / model
    position = pd.Index(np.load(out / "ids.npy")).get_indexer(ids)
    return np.load(out / "vectors.npy")[position]


def _products(settings: Settings) -> pd.DataFrame:
    products = pd.read_parquet(settings.catalog_dir / "products.parquet")
    return products[products["has_image"]].head(SAMPLE)


@pytest.mark.parametrize("model", ["resnet", "efficientnet", "clip"])
def test_raw_uploads_match_batch_vectors(
    embedded: Settings, encoders: Encoders, model: str
) -> None:
    products = _products(embedded)
    ids = products["id"].tolist()
    uploads = [Image.open(RAW_CATALOGUE / "images" / f"{i}.jpg") for i in ids]
    online = encoders.encode_images(model, uploads)
    np.testing.assert_allclose(online, _batch(embedded, model, ids), atol=1e-5)


def test_normalised_catalogue_pngs_match_batch_vectors(
    embedded: Settings, encoders: Encoders
) -> None:
    ids = _products(embedded)["id"].tolist()
    pngs = [Image.open(embedded.catalog_dir / "images" / f"{i}.png") for i in ids]
    np.testing.assert_allclose(
        encoders.encode_images("clip", pngs), _batch(embedded, "clip", ids), atol=1e-5
    )


def test_texts_match_clip_text_vectors(embedded: Settings, encoders: Encoders) -> None:
    products = pd.read_parquet(embedded.catalog_dir / "products.parquet").tail(SAMPLE)
    texts = [product_text(p, FASHION) for p in products.to_dict("records")]
    batch = _batch(embedded, "clip_text", products["id"].tolist())
    np.testing.assert_allclose(encoders.encode_texts(texts), batch, atol=1e-5)


def test_hybrid_with_product_text_matches_batch(embedded: Settings, encoders: Encoders) -> None:
    products = _products(embedded)
    records = products.to_dict("records")
    uploads = [Image.open(RAW_CATALOGUE / "images" / f"{i}.jpg") for i in products["id"]]
    online = encoders.encode_images(
        "hybrid",
        uploads,
        texts=[product_text(p, FASHION) for p in records],
        categories=[str(p["articleType"]) for p in records],
    )
    np.testing.assert_allclose(
        online, _batch(embedded, "hybrid", products["id"].tolist()), atol=1e-5
    )


def test_hybrid_upload_without_text_predicts_its_category(weights_dir: Path) -> None:
    encoders = Encoders(weights_dir=weights_dir, category_names=["Watches", "Tshirts"])
    vectors = encoders.encode_images("hybrid", [Image.new("RGBA", (30, 90), (200, 10, 10, 255))])
    assert vectors.shape == (1, encoders.dim("hybrid"))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_hybrid_upload_without_text_or_categories_is_refused(encoders: Encoders) -> None:
    with pytest.raises(ValueError, match="category_names"):
        encoders.encode_images("hybrid", [Image.new("RGB", (60, 80))])
