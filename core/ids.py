"""The one way a product id in a URL or query becomes a catalogue id."""

from __future__ import annotations

# Catalogue ids are positive 64-bit integers: at most 19 digits.
MAX_ID_DIGITS = 19
MAX_ID = 2**63 - 1


def parse_product_id(text: str) -> int | None:
    """The catalogue id written in `text` (ASCII digits only), or None for anything else.

    `str.isdigit` alone admits "²" or "١٢" and `int` refuses more than 4,300 digits, so both are
    checked here once instead of at every endpoint.
    """
    if not 0 < len(text) <= MAX_ID_DIGITS or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
