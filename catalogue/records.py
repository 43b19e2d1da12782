"""Product metadata and images sent by clients, checked by the ingest stage's rules."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from core.ids import parse_product_id
from core.schema import CatalogueSchema
from ingest.images import IMAGE_SIZE, ImageRejected, normalise, open_checked
from ingest.table import clean_text, normalise_name, parse_number

MAX_TEXT = 500
MAX_NUMBER = 1e15  # beyond this a "price" or "year" is a typing slip, not a value
MAX_UPLOAD = 10 * 1024 * 1024
NO_IMAGE = "missing: no image uploaded"


class InvalidProduct(ValueError):
    """Metadata or an image that cannot be stored: what was wrong, the field, the HTTP status."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class ProductImage:
    """An uploaded image, checked and normalised as ingest does."""

    image: Image.Image  # RGB, IMAGE_SIZE × IMAGE_SIZE
    png: bytes
    sha1: str  # of the uploaded bytes, as ingest hashes the source file


def check_upload(data: bytes) -> Image.Image:
    """Decode an uploaded image with ingest's checks, or InvalidProduct naming the reason."""
    if len(data) > MAX_UPLOAD:
        raise InvalidProduct(
            f"image is {len(data):,} bytes; the limit is {MAX_UPLOAD:,}", "image", 413
        )
    if not data:
        raise InvalidProduct("image: empty: 0-byte file; send a JPEG or PNG", "image")
    try:
        return open_checked(io.BytesIO(data))
    except ImageRejected as exc:
        if exc.kind in ("too_large", "too_small"):
            raise InvalidProduct(f"unusable image: {exc}", "image") from exc
        raise InvalidProduct(
            f"not an image we can read ({exc}); send a JPEG or PNG", "image", 415
        ) from exc


def product_image(data: bytes) -> ProductImage:
    """An uploaded product photo, checked and normalised to the catalogue's square."""
    square = normalise(check_upload(data))
    assert square.size == (IMAGE_SIZE, IMAGE_SIZE)
    buffer = io.BytesIO()
    square.save(buffer, format="PNG", compress_level=1)
    return ProductImage(square, buffer.getvalue(), hashlib.sha1(data).hexdigest())


def product_id_of(value: Any, field: str = "id") -> int:
    """A catalogue id from JSON (a positive integer, or its digits as a string)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    parsed = parse_product_id(text) if isinstance(text, str) else None
    if parsed is None:
        raise InvalidProduct(f"{field} must be a positive integer, got {value!r}", field)
    return parsed


def _text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidProduct(f"{field} must be a string or null, got {value!r}", field)
    if len(value) > MAX_TEXT:
        raise InvalidProduct(f"{field} is {len(value)} characters; the limit is {MAX_TEXT}", field)
    return clean_text(value)


def _number(field: str, value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, type(None))):
        raise InvalidProduct(f"{field} must be a number or null, got {value!r}", field)
    number, dropped = parse_number(value, field)
    if dropped:
        raise InvalidProduct(dropped.replace(": kept as null", ""), field)
    if number is not None and not abs(number) <= MAX_NUMBER:
        raise InvalidProduct(f"{field} must be within ±{MAX_NUMBER:g}, got {number}", field)
    return number


class Metadata:
    """The metadata a client sends for a schema: the text fields (the title as `name`) and the
    numeric fields, checked as ingest reads them."""

    def __init__(self, schema: CatalogueSchema) -> None:
        self.schema = schema
        self.text_fields = ("name", *(f for f in schema.text_fields if f != schema.title))
        self.fields = ("id", *self.text_fields, *schema.numeric)

    def checked(self, raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Checked catalogue fields from a client's metadata object (`partial`: only those sent).

        Text fields are trimmed and "" / "NA" become null, as ingest does; `name` is kept raw as
        the schema's title and with whitespace collapsed as `name`.
        """
        unknown = sorted(set(raw) - set(self.fields))
        if unknown:
            raise InvalidProduct(
                f"unknown field(s) {', '.join(unknown)}; metadata fields are "
                f"{', '.join(self.fields)}",
                unknown[0],
            )
        if partial and "id" in raw:
            raise InvalidProduct("id cannot be changed; it is the path's id", "id")
        fields: dict[str, Any] = {}
        for field in self.text_fields:
            if field in raw or not partial:
                fields[field] = _text(field, raw.get(field))
        if "name" in fields:
            fields[self.schema.title] = fields["name"]
            fields["name"] = normalise_name(fields["name"])
        for field in self.schema.numeric:
            if field in raw or not partial:
                fields[field] = _number(field, raw.get(field))
        return fields


def image_fields(image: ProductImage | None, image_file: str | None) -> dict[str, Any]:
    """The catalogue's image columns for a product written through the API."""
    return {
        "has_image": image is not None,
        "image_issue": None if image is not None else NO_IMAGE,
        "image_sha1": None if image is None else image.sha1,
        "image_file": image_file,
        "pixel_row": None,
        "duplicate_group": None,
    }
