"""Validation and normalisation of product images."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile

# Every model reads this square size; 80 px keeps the catalogue's 60×80 photos without resampling.
IMAGE_SIZE = 80
PAD_COLOUR = (255, 255, 255)
MIN_SIDE = 16
MAX_SIDE = 4096
MAX_PIXELS = 16_000_000

ImageFile.LOAD_TRUNCATED_IMAGES = False

Pixels = npt.NDArray[np.uint8]
# What a file's extension promises; a PNG saved as `.jpg` is refused as the wrong format.
FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


class ImageRejected(ValueError):
    """An image that cannot be used: a short `kind` for counting plus a readable reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind


@dataclass(frozen=True)
class CheckedImage:
    """Outcome of checking one product image: normalised pixels or the reason it was rejected."""

    product_id: int
    pixels: Pixels | None
    sha1: str | None
    issue: str | None


def normalise(image: Image.Image, size: int = IMAGE_SIZE) -> Image.Image:
    """RGB, padded to a centred square with white, resized to `size`×`size`."""
    rgb = image.convert("RGB")
    side = max(rgb.size)
    square = Image.new("RGB", (side, side), PAD_COLOUR)
    square.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
    if side != size:
        square = square.resize((size, size), Image.Resampling.BICUBIC)
    return square


def open_checked(path: Path | BinaryIO, expected_format: str | None = None) -> Image.Image:
    """Open and fully decode an image, raising `ImageRejected` with a reason a person understands."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ImageRejected(
                    "too_large", f"absurd dimensions {width}x{height} (decompression bomb?)"
                )
            if min(width, height) < MIN_SIDE:
                raise ImageRejected("too_small", f"{width}x{height}, minimum side is {MIN_SIDE}")
            if expected_format and image.format != expected_format:
                raise ImageRejected(
                    "wrong_format", f"{image.format} data where {expected_format} expected"
                )
            image.load()
            return image
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("too_large", f"decompression bomb: {exc}") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageRejected("corrupt", "not a decodable image") from exc
    except OSError as exc:
        raise ImageRejected("corrupt", f"truncated or damaged data ({exc})") from exc


def check_image(product_id: int, source: Path, out_dir: Path) -> CheckedImage:
    """Validate one catalogue image (JPEG, PNG or WebP, as its extension says; any size within
    the bomb limits); write it normalised as `<out_dir>/<id>.png` when usable."""
    try:
        if not source.exists():
            raise ImageRejected("missing", f"no file {source.name}")
        data = source.read_bytes()
        if not data:
            raise ImageRejected("empty", "0-byte file")
        square = normalise(open_checked(source, FORMATS.get(source.suffix.lower())))
        square.save(out_dir / f"{product_id}.png", compress_level=1)
    except ImageRejected as exc:
        return CheckedImage(product_id, None, None, str(exc))
    except OSError as exc:
        return CheckedImage(product_id, None, None, f"unreadable: {exc.strerror or exc}")
    return CheckedImage(
        product_id, np.asarray(square, dtype=np.uint8), hashlib.sha1(data).hexdigest(), None
    )
