"""Helpers for the live-catalogue tests: a private copy of the indexed slice, and write calls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings
from tests.conftest import SHARED

API_KEY = "test-key-123"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def copy_data(settings: Settings, target: Path) -> Settings:
    """A private copy of an indexed data folder (writes to it leave the original alone)."""
    shutil.copytree(settings.data_dir, target, symlinks=True)
    return Settings(source=settings.source, data_dir=target, api_key=API_KEY)


def photo(product_id: int) -> bytes:
    """The catalogue's original JPEG of a product."""
    return (SHARED / "images" / f"{product_id}.jpg").read_bytes()


def metadata(product_id: int, **fields: Any) -> dict[str, Any]:
    """A complete metadata object for the write API."""
    return {
        "id": product_id,
        "name": f"Test product {product_id}",
        "gender": "Men",
        "masterCategory": "Apparel",
        "subCategory": "Topwear",
        "articleType": "Tshirts",
        "baseColour": "Blue",
        "season": "Summer",
        "year": 2024,
        "usage": "Casual",
    } | fields


def post_product(
    client: httpx.Client,
    fields: dict[str, Any],
    image: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /products as a multipart form."""
    files = {"image": ("photo.jpg", image, "image/jpeg")} if image is not None else None
    return client.post(
        "/products",
        data={"metadata": json.dumps(fields)},
        files=files,
        headers=AUTH if headers is None else headers,
    )


def put_product(
    client: httpx.Client, product_id: int, fields: dict[str, Any], image: bytes | None = None
) -> httpx.Response:
    """PUT /products/{id} as a multipart form."""
    files = {"image": ("photo.jpg", image, "image/jpeg")} if image is not None else None
    return client.put(
        f"/products/{product_id}",
        data={"metadata": json.dumps(fields)},
        files=files,
        headers=AUTH,
    )
