"""The words of the UI: what each model and knob is for, and the filter choices."""

from __future__ import annotations

from core.registry import models_answering

# Model -> (label, when to use it), for the models that answer a catalogue product.
_PRODUCT_LABELS: dict[str, tuple[str, str]] = {
    "resnet": (
        "ResNet",
        "Visual twins: same shape, texture and colour. Use for 'more of exactly this'.",
    ),
    "efficientnet": (
        "EfficientNet",
        "Visual twins from a lighter network; a second opinion on ResNet's look-alikes.",
    ),
    "clip": (
        "CLIP · exploratory",
        "Matches style and concept across categories. Use to inspire and cross-sell.",
    ),
    "hybrid": (
        "Hybrid · business-controlled",
        "Image + product text + category in one vector: stays on-brief. Use on product pages.",
    ),
}
# `POST /search` serves text in the text encoder's space (CLIP images, product texts, hybrid)
# and photos with the image networks.
_TEXT_LABELS = {
    "clip": "CLIP · words → photos",
    "clip_text": "Text · words → product descriptions",
    "hybrid": "Hybrid · words → photo + description + category",
}
# Which models the UI offers comes from the registry; the UI only words them.
MODELS = {model: _PRODUCT_LABELS[model] for model in models_answering("product")}
TEXT_SEARCH_MODELS = {model: _TEXT_LABELS[model] for model in models_answering("text")}
PHOTO_SEARCH_MODELS = {"clip": "CLIP", "resnet": "ResNet", "efficientnet": "EfficientNet"}
DEFAULT_MODEL = "hybrid"

LAMBDA_HELP = (
    "1.0 = pure relevance (closest look-alikes, often near-duplicates); "
    "0.0 = maximum diversity (each pick unlike the ones before it). 0.7 balances both."
)
CATEGORY_HELP = "soft: similar categories rank higher · hard: same article type only · off: image similarity alone"
# Ranker -> label: how the recalled candidates are ordered (`ranker` of `GET /recommend`).
RANKERS = {
    "static": "Static · ANN + category",
    "learned": "Learned · trained on shoppers' clicks",
}
NO_RANKER = (
    "No learned ranker is trained yet: log traffic with `lookalike simulate`, then run "
    "`lookalike ranker train`; reload the page once it is saved."
)

FILTERS: dict[str, tuple[str, ...]] = {
    "gender": ("Men", "Women", "Unisex", "Boys", "Girls"),
    "season": ("Summer", "Fall", "Winter", "Spring"),
    "usage": ("Casual", "Formal", "Sports", "Ethnic", "Party", "Smart Casual", "Travel"),
    "baseColour": (
        "Black",
        "White",
        "Blue",
        "Navy Blue",
        "Grey",
        "Brown",
        "Red",
        "Green",
        "Pink",
        "Purple",
        "Beige",
        "Yellow",
        "Silver",
        "Gold",
    ),
}
FILTER_LABELS = {"gender": "Gender", "season": "Season", "usage": "Usage", "baseColour": "Colour"}


def model_help(model: str) -> str:
    """One line on when to use `model`."""
    label, use = MODELS[model]
    return f"**{label}**: {use}"
