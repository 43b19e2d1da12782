"""Ingest by a declared schema: a shop's own table format, column names and image layout."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from catalogue.database import CatalogueDB
from core.schema import catalogue_schema, load_schema
from core.settings import DATABASE_FILE
from ingest.catalog import load_catalog
from ingest.table import TableError, read_table
from lookalike.cli import main
from tests.shop import price_of, write_shop

ROWS = 40


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shop(tmp_path_factory.mktemp("shop"), ROWS)


def test_ingest_with_a_schema_keeps_the_shops_layout(shop: Path, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    args = [
        "--data-dir",
        data,
        "ingest",
        "--source",
        str(shop),
        "--schema",
        str(shop / "schema.toml"),
    ]
    assert main([*args, "--workers", "1"]) == 0
    catalog_dir = tmp_path / "data/catalog"
    frame = load_catalog(catalog_dir).set_index("id")
    assert len(frame) == ROWS and frame["has_image"].sum() == ROWS
    assert str(frame["price"].dtype) == "Float64"
    first = int(frame.index[0])
    assert frame.loc[first, "price"] == price_of(first)
    assert frame["price"].isna().sum() == len(range(5, ROWS, 11))
    assert frame["colour"].isna().sum() >= len(range(3, ROWS, 7))
    assert {"kind", "department", "audience", "name"} <= set(frame.columns)
    assert "articleType" not in frame.columns
    report = json.loads((catalog_dir / "report.json").read_text())
    assert report["rows_kept"] == ROWS and report["nulls"]["price"] == len(range(5, ROWS, 11))
    schema = load_schema(shop / "schema.toml")
    assert catalogue_schema(catalog_dir) == schema
    database = CatalogueDB(tmp_path / "data" / DATABASE_FILE)
    assert database.schema == schema
    assert database.frame()["price"].dtype == "Float64"
    record = database.get(first)
    assert record is not None and record["kind"] == frame.loc[first, "kind"]
    database.close()
    assert main([*args, "--workers", "1"]) == 0  # unchanged source: nothing to do


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_every_table_format_reads_alike(shop: Path, tmp_path: Path, suffix: str) -> None:
    schema = load_schema(shop / "schema.toml")
    frame = pd.read_json(shop / schema.table, lines=True, dtype=False)
    folder = tmp_path / "export"
    folder.mkdir()
    path = folder / f"products{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    other = replace(schema, table=f"export/products{suffix}")
    expected = read_table(shop, schema).frame.drop(columns=["line"])
    got = read_table(tmp_path, other).frame.drop(columns=["line"])
    pd.testing.assert_frame_equal(got, expected)


def test_a_missing_column_names_file_column_and_fix(shop: Path, tmp_path: Path) -> None:
    text = (shop / "schema.toml").read_text().replace('"audience"]', '"size"]')
    (tmp_path / "schema.toml").write_text(text)
    with pytest.raises(TableError, match=r"products\.jsonl:1: missing required column\(s\) size"):
        read_table(shop, load_schema(tmp_path / "schema.toml"))


def test_bad_records_are_listed_with_their_line(tmp_path: Path, shop: Path) -> None:
    schema = load_schema(shop / "schema.toml")
    good = (shop / schema.table).read_text().splitlines()[:2]
    repeated = good[0]
    (tmp_path / "export").mkdir()
    (tmp_path / schema.table).write_text(
        "\n".join([*good, "{not json", "[1, 2]", repeated, '{"sku": "x/1", "title": "t"}'])
    )
    table = read_table(tmp_path, schema)
    assert len(table.frame) == 2 and table.rows_read == 6
    reasons = [(r.line, r.reason.split(" (")[0]) for r in table.rejected]
    sku = json.loads(repeated)["sku"]
    assert reasons == [
        (3, "not JSON"),
        (4, "a JSON list, not an object"),
        (5, f"sku {sku} repeats line 1"),
        (6, "sku 'x/1' is not a positive integer"),
    ]
