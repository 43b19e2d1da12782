"""Ingest of the real catalogue: every row kept, every quirk counted."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from PIL import Image

from core.schema import FASHION
from core.settings import Settings
from ingest.catalog import load_catalog
from ingest.table import read_table
from tests.conftest import require_shared

KNOWN_MISSING = {39403, 39410, 39401, 39425, 12347}


def test_styles_parse_keeps_and_repairs_every_row() -> None:
    table = read_table(require_shared(), FASHION)
    assert table.rows_read == 44_446
    assert len(table.frame) == 44_446
    assert len(table.repaired) == 22
    assert table.rejected == []
    assert table.repaired[0].line == 6044 and table.repaired[0].id == "44065"
    frame = table.frame.set_index("id")
    assert frame.loc[44065, "productDisplayName"] == (
        "Boss Men Perfume, After Shave Balm and Shower Gel Set"
    )
    assert frame.loc[7491, "productDisplayName"] == "Nike Women's EM Tempo 3.5\" Pink Short"
    nulls = frame.isna().sum()
    assert nulls["usage"] == 317 and nulls["baseColour"] == 15
    assert nulls["productDisplayName"] == 7 and nulls["season"] == 21 and nulls["year"] == 1
    assert str(frame["year"].dtype) == "Int64"


def test_full_ingest_report(full_catalog: Settings) -> None:
    report = json.loads((full_catalog.catalog_dir / "report.json").read_text())
    assert report["rows_read"] == report["rows_kept"] == 44_446
    assert report["rows_repaired"] == 22
    assert report["with_image"] == 44_072
    assert report["without_image"] == 374
    assert report["images_rejected_by_reason"] == {"missing": 374}
    assert set(report["ids_without_image"]["missing"]) >= KNOWN_MISSING
    assert report["duplicate_groups"] == 651
    assert report["duplicate_ids"] == 1_429
    assert report["nulls"]["usage"] == 317


def test_full_ingest_products_and_images(full_catalog: Settings) -> None:
    frame = load_catalog(full_catalog.catalog_dir).set_index("id")
    assert len(frame) == 44_446
    assert not frame.loc[list(KNOWN_MISSING), "has_image"].any()
    assert frame.loc[list(KNOWN_MISSING), "articleType"].notna().all()
    names = frame["name"].dropna()
    assert not names.str.contains("  ").any()
    assert (names == names.str.strip()).all()
    # 12345 (Saree) and 12346 (T-shirt) show the same photo: one duplicate group, both kept.
    assert frame.loc[12345, "duplicate_group"] == frame.loc[12346, "duplicate_group"]
    pixels = np.load(full_catalog.catalog_dir / "pixels.npy", mmap_mode="r")
    assert pixels.shape == (44_446, 80, 80, 3)
    row = int(frame.loc[15970, "pixel_row"])
    png = np.asarray(Image.open(full_catalog.catalog_dir / "images/15970.png"))
    assert np.array_equal(pixels[row], png)
    assert pd.isna(frame.loc[39403, "pixel_row"])
