"""Texts fed to the CLIP text tower: product text, category prompts and training captions."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pandas as pd

CATEGORY_TEMPLATE = "a photo of {}"

Product = Mapping[str, object]


def _field(product: Product, key: str) -> str:
    value = product.get(key)
    return "" if value is None or pd.isna(value) else str(value).strip()


def category_prompt(article_type: str) -> str:
    """The prompt whose text vector stands for a category."""
    return CATEGORY_TEMPLATE.format(article_type)


def product_text(product: Product) -> str:
    """The canonical text of a product: category, colour, gender, usage and name."""
    details = " ".join(
        _field(product, key) for key in ("baseColour", "gender", "usage") if _field(product, key)
    )
    head = category_prompt(_field(product, "articleType"))
    if details:
        head = f"{head}, {details}"
    name = _field(product, "name")
    return f"{head}: {name}" if name else head


def training_caption(product: Product, rng: random.Random) -> str:
    """A randomly varied caption so that long product texts and short prompts both work."""
    article = _field(product, "articleType")
    name = _field(product, "name")
    colour = _field(product, "baseColour")
    gender = _field(product, "gender")
    choice = rng.random()
    if choice < 0.3:
        return product_text(product)
    if choice < 0.5:
        return category_prompt(article)
    if choice < 0.65 and name:
        return name
    words = [w for w in (colour, gender) if w and rng.random() < 0.6]
    rng.shuffle(words)
    phrase = " ".join([*words, article]).strip()
    return rng.choice(("a photo of {}", "{}", "a {}", "photo of a {}")).format(phrase)
