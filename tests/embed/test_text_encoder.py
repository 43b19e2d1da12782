"""The pretrained text encoder: offline from its package, verified, and meaningful."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embed.errors import WeightsCorruptError
from embed.text import QueryExpansion, category_prompt
from embed.text_encoder import WEIGHTS_SHA256, TextEncoder, package_model_dir
from recommend.categories import CategorySimilarity


def test_loads_offline_from_the_installed_package(
    text_encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert text_encoder.sha256 == WEIGHTS_SHA256
    assert text_encoder.describe()["source"] == "package"
    vectors = text_encoder.encode(["red summer dress", "black leather wallet"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_tampered_weights_file_is_refused(tmp_path: Path) -> None:
    copy = shutil.copytree(package_model_dir(), tmp_path / "model")
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsCorruptError, match="not the pinned"):
        TextEncoder.load(copy)


def test_batched_and_single_texts_agree(text_encoder: TextEncoder) -> None:
    texts = ["a", "shades to protect my eyes from the sun", "a photo of Watches", "a"]
    batch = text_encoder.encode(texts)
    single = np.concatenate([text_encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_language_knowledge_reaches_the_categories(text_encoder: TextEncoder) -> None:
    names = ["Watches", "Wristbands", "Socks", "Free Gifts", "Sunglasses"]
    vectors = text_encoder.encode([category_prompt(n) for n in names])
    similarity = CategorySimilarity(names, vectors, field="articleType")
    assert similarity.nearest("Watches", 1)[0][0] == "Wristbands"


def test_a_new_article_type_gets_a_real_similarity(text_encoder: TextEncoder) -> None:
    def encode(names: Sequence[str]) -> np.ndarray:
        return text_encoder.encode([category_prompt(n) for n in names])

    names = ["Watches", "Tshirts"]
    similarity = CategorySimilarity(names, encode(names), encode, field="articleType")
    smart_watch = similarity.similarity("Watches", "Smart Watches")
    assert smart_watch > 0.3
    assert smart_watch > similarity.similarity("Tshirts", "Smart Watches")
    assert (
        CategorySimilarity(names, encode(names), field="articleType").similarity(
            "Watches", "Smart Watches"
        )
        == 0.0
    )


def test_query_expansion_moves_words_to_the_nearest_product_texts(
    text_encoder: TextEncoder,
) -> None:
    catalogue = ["a photo of Sunglasses, Black Men", "a photo of Wallets, Brown Men"]
    texts = text_encoder.encode(catalogue)
    query = text_encoder.encode(["shades to protect my eyes from the sun"])
    only_texts = QueryExpansion(neighbours=1).apply(query, texts[None, :1])
    assert np.allclose(only_texts[0], texts[0], atol=1e-6)
    halfway = QueryExpansion(neighbours=1, query_weight=1.0).apply(query, texts[None, :1])
    assert np.isclose(np.linalg.norm(halfway), 1.0, atol=1e-6)
    assert np.isclose(halfway[0] @ query[0], halfway[0] @ texts[0], atol=1e-5)
