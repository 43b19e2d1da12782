"""The catalogue's source columns: what styles.csv holds and every stage reads."""

COLUMNS = (
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
)
TEXT_COLUMNS = tuple(c for c in COLUMNS if c not in ("id", "year"))
