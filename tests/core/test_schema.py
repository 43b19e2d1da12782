"""The catalogue schema: the TOML form the issue fixes, the shipped Fashion file, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.schema import FASHION, SchemaError, catalogue_schema, load_schema, save_schema

SHOP = """
[table]
path = "products.jsonl"
[fields]
id = "sku"
title = "title"
category = "kind"
category_path = ["department", "kind"]
text = ["title", "kind", "colour"]
facets = ["department", "colour", "audience"]
numeric = ["price"]
[image]
template = "photos/{id}.webp"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.toml"
    path.write_text(text)
    return path


def test_the_issue_example_reads_as_a_typed_schema(tmp_path: Path) -> None:
    schema = load_schema(_write(tmp_path, SHOP))
    assert schema.table == "products.jsonl" and schema.id == "sku"
    assert schema.category_path == ("department", "kind")
    assert schema.facets == ("department", "colour", "audience")
    assert schema.numeric == ("price",) and schema.image_template == "photos/{id}.webp"
    assert schema.fields[0] == "sku" and "price" not in schema.text_fields
    assert schema.phrase_fields == ("kind", "colour")


def test_fashion_schema_names_todays_columns() -> None:
    assert FASHION.fields == (
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
    assert FASHION.category == "articleType" and FASHION.numeric == ("year",)


def test_stored_schema_round_trips(tmp_path: Path) -> None:
    schema = load_schema(_write(tmp_path, SHOP))
    save_schema(schema, tmp_path)
    assert catalogue_schema(tmp_path) == schema
    assert catalogue_schema(tmp_path / "older-build") == FASHION


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('path = "products.jsonl"', 'path = "products.xlsx"'), r"must end in one of \.csv"),
        (('id = "sku"\n', ""), r"\[fields\] id must be a column name"),
        (('text = ["title", "kind", "colour"]\n', ""), r"\[fields\] text is missing"),
        (('template = "photos/{id}.webp"', 'template = "photos/x.webp"'), r"must contain \{id\}"),
        (('template = "photos/{id}.webp"', 'column = "image"'), None),
        (('[image]\ntemplate = "photos/{id}.webp"', ""), r"\[image\] needs exactly one"),
        (('numeric = ["price"]', 'numeric = ["colour"]'), r"colour cannot be both numeric"),
        (('numeric = ["price"]', 'numeric = ["version"]'), r"'version' is a name the catalogue"),
        (('facets = ["department"', 'facets = ["de-partment"'), r"names must be 1-64 letters"),
        (("[fields]", "[fields\n"), r"not a TOML file"),
    ],
)
def test_a_wrong_schema_names_file_key_and_fix(
    tmp_path: Path, change: tuple[str, str], message: str | None
) -> None:
    path = _write(tmp_path, SHOP.replace(*change))
    if message is None:
        assert load_schema(path).image_column == "image"
        return
    with pytest.raises(SchemaError, match=message) as error:
        load_schema(path)
    assert str(path) in str(error.value)


def test_a_missing_schema_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="schema file not found; check --schema"):
        load_schema(tmp_path / "nope.toml")
