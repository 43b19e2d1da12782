"""A second test shop built from the shared catalogue, sharing none of its layout: a JSON Lines
table with other column names, a price, a two-level category path, fewer facets, PNG and WebP
photos at 4× the size in nested folders, and rows missing optional fields."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from PIL import Image

from core.schema import FASHION
from ingest.table import read_table
from tests.conftest import require_shared

SCHEMA = """
[table]
path = "export/products.jsonl"

[fields]
id = "sku"
title = "title"
category = "kind"
category_path = ["department", "kind"]
text = ["title", "kind", "colour"]
facets = ["department", "colour", "audience"]
numeric = ["price"]

[image]
column = "photo"
"""


def price_of(product_id: int) -> float:
    """A made-up but fixed price."""
    return round(9.99 + product_id % 90, 2)


def write_shop(target: Path, rows: int) -> Path:
    """The shop's source folder (with `schema.toml`) from the first `rows` Fashion products."""
    shared = require_shared()
    frame = read_table(shared, FASHION).frame.head(rows)
    (target / "export").mkdir(parents=True, exist_ok=True)
    lines = []
    for n, product in enumerate(frame.to_dict("records")):
        product_id = int(product["id"])
        kind = product["articleType"]
        suffix = "png" if n % 2 == 0 else "webp"
        photo = f"media/{str(kind).lower().replace(' ', '-')}/{product_id}/front.{suffix}"
        source = shared / "images" / f"{product_id}.jpg"
        if source.is_file():
            (target / photo).parent.mkdir(parents=True, exist_ok=True)
            with Image.open(source) as image:
                image.convert("RGB").resize((image.width * 4, image.height * 4)).save(
                    target / photo
                )
        record = {
            "sku": str(product_id),
            "title": product["productDisplayName"],
            "department": product["masterCategory"],
            "kind": kind,
            "colour": product["baseColour"],
            "audience": product["gender"],
            "price": price_of(product_id),
            "photo": photo,
        }
        if n % 7 == 3:
            del record["colour"]
        if n % 11 == 5:
            del record["price"]
        lines.append(json.dumps({k: None if pd.isna(v) else v for k, v in record.items()}))
    (target / "export/products.jsonl").write_text("\n".join(lines) + "\n")
    (target / "schema.toml").write_text(SCHEMA)
    return target
