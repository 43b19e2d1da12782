"""Bad input: clear errors naming file and line; bad images rejected one by one, never a crash."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import ingest.catalog
from catalogue.fill import build_catalog
from core.errors import LookalikeError
from core.schema import FASHION
from ingest.catalog import load_catalog
from ingest.table import TableError, read_table
from lookalike.cli import main
from tests.conftest import require_shared

HEADER = ",".join(FASHION.source_columns) + "\n"


def _row(product_id: int, name: str = "Test Shirt") -> str:
    return f"{product_id},Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,{name}\n"


def _jpeg_bytes(size: tuple[int, int] = (60, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    (folder / "images").mkdir(parents=True)
    return folder


def test_missing_styles_csv(source: Path) -> None:
    with pytest.raises(TableError, match=r"styles\.csv not found.*--source"):
        read_table(source, FASHION)


def test_empty_file(source: Path) -> None:
    (source / "styles.csv").write_text("")
    with pytest.raises(TableError, match=r"styles\.csv:1: the file is empty"):
        read_table(source, FASHION)


def test_missing_required_column(source: Path) -> None:
    (source / "styles.csv").write_text(HEADER.replace(",articleType", "") + "1,Men\n")
    with pytest.raises(
        TableError, match=r"styles\.csv:1: missing required column\(s\) articleType"
    ):
        read_table(source, FASHION)


def test_wrong_encoding_names_the_line(source: Path) -> None:
    (source / "styles.csv").write_bytes(
        (HEADER + _row(1)).encode() + _row(2, "Caf\xe9").encode("latin-1")
    )
    with pytest.raises(TableError, match=r"styles\.csv:3: not UTF-8"):
        read_table(source, FASHION)


def test_bad_rows_are_reported_not_lost(source: Path) -> None:
    (source / "styles.csv").write_text(
        HEADER
        + _row(1)
        + "x2,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Bad id\n"
        + "3,Men,Apparel\n"
        + _row(1, "Again")
        + _row(4, "  Spaced   Name ").replace("2011", "20x1")
        + _row(5, "Boss Perfume, Balm, Gel")
    )
    table = read_table(source, FASHION)
    assert table.rows_read == 6
    assert [(r.line, r.reason) for r in table.rejected] == [
        (3, "id 'x2' is not a positive integer"),
        (4, "expected 10 fields, found 3"),
        (5, "id 1 repeats line 2"),
    ]
    assert table.warnings[0].line == 6 and "year" in table.warnings[0].reason
    assert table.repaired[0].line == 7
    frame = table.frame.set_index("id")
    assert frame.loc[5, "productDisplayName"] == "Boss Perfume, Balm, Gel"
    assert pd.isna(frame.loc[4, "year"])


def test_unreadable_images_folder(source: Path, tmp_path: Path) -> None:
    (source / "styles.csv").write_text(HEADER + _row(1))
    (source / "images").rmdir()
    (source / "images").write_text("not a folder")
    with pytest.raises(LookalikeError, match="images folder unreadable"):
        build_catalog(source, tmp_path / "catalog")


def test_bad_images_rejected_one_by_one(source: Path, tmp_path: Path) -> None:
    images = source / "images"
    good = _jpeg_bytes()
    (images / "1.jpg").write_bytes(good)
    (images / "2.jpg").write_bytes(b"")
    (images / "3.jpg").write_bytes(good[: len(good) // 2])
    Image.new("RGB", (60, 80)).save(images / "4.jpg", "PNG")
    (images / "5.jpg").write_bytes(_jpeg_bytes((4100, 4100)))
    (images / "6.jpg").write_bytes(b"\xff\xd8\xff garbage")
    shutil.copy(require_shared() / "images/15970.jpg", images / "7.jpg")
    rows = "".join(_row(i) for i in range(1, 9))
    (source / "styles.csv").write_text(HEADER + rows)
    report = build_catalog(source, tmp_path / "catalog", workers=1)
    assert report is not None
    frame = load_catalog(tmp_path / "catalog").set_index("id")
    assert len(frame) == 8
    assert frame["has_image"].tolist() == [True, False, False, False, False, False, True, False]
    issues = frame["image_issue"]
    assert issues[2].startswith("empty")
    assert issues[3].startswith("corrupt")
    assert issues[4] == "wrong_format: PNG data where JPEG expected"
    assert issues[5].startswith("too_large")
    assert issues[6].startswith("corrupt")
    assert issues[8].startswith("missing")
    assert report["images_rejected_by_reason"] == {
        "empty": 1,
        "corrupt": 2,
        "wrong_format": 1,
        "too_large": 1,
        "missing": 1,
    }
    assert Image.open(tmp_path / "catalog/images/1.png").size == (80, 80)


def test_rerun_skips_and_crash_keeps_previous(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (source / "images" / "1.jpg").write_bytes(_jpeg_bytes())
    (source / "styles.csv").write_text(HEADER + _row(1))
    catalog = tmp_path / "data" / "catalog"
    assert build_catalog(source, catalog, workers=1) is not None
    assert build_catalog(source, catalog, workers=1) is None
    before = (catalog / "products.parquet").read_bytes()

    def interrupted(*args: object, **kwargs: object) -> dict[str, object]:
        raise KeyboardInterrupt

    (source / "styles.csv").write_text(HEADER + _row(1) + _row(2))
    monkeypatch.setattr(ingest.catalog, "_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_catalog(source, catalog, workers=1)
    assert (catalog / "products.parquet").read_bytes() == before
    assert len(list((tmp_path / "data" / "catalog.builds").iterdir())) == 1


def test_cli_prints_summary_and_clear_errors(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (source / "images" / "1.jpg").write_bytes(_jpeg_bytes())
    (source / "styles.csv").write_text(HEADER + _row(1) + _row(2))
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "ingest", "--source", str(source), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "ingested 2 of 2 rows" in out and "missing 1" in out
    report = json.loads((tmp_path / "data/catalog/report.json").read_text())
    assert report["ids_without_image"] == {"missing": [2]}
    assert main(["--data-dir", data, "ingest", "--source", str(tmp_path / "nowhere")]) == 2
    assert "styles.csv not found" in capsys.readouterr().err
