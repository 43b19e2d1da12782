"""Contract-shaped catalogues (docs/CONTRACTS.md, ingest section) built from the raw catalogue."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from catalogue.database import CatalogueDB
from core.schema import FASHION
from core.settings import DATABASE_FILE
from ingest.images import check_image
from ingest.table import normalise_name, read_table

RAW_CATALOGUE = Path("/work/shared/data/fashion-small")


def build_catalog(
    out_dir: Path,
    limit: int | None = None,
    ids: Collection[int] | None = None,
    source: Path = RAW_CATALOGUE,
) -> Path:
    """Write products.parquet, images/, pixels.npy, catalog.sha256 and the catalogue database
    (beside `out_dir`) for some catalogue rows."""
    frame = read_table(source, FASHION).frame.drop(columns=["line"])
    if ids is not None:
        frame = frame[frame["id"].isin(ids)]
    if limit is not None:
        frame = frame.head(limit)
    frame = frame.copy()
    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    checked = [check_image(int(i), source / "images" / f"{i}.jpg", images_dir) for i in frame["id"]]
    usable = [c for c in checked if c.pixels is not None]
    rows = {c.product_id: n for n, c in enumerate(usable)}
    frame["name"] = (
        frame["productDisplayName"]
        .map(lambda n: None if pd.isna(n) else normalise_name(str(n)))
        .astype("string")
    )
    frame["has_image"] = [c.pixels is not None for c in checked]
    frame["image_issue"] = pd.array([c.issue for c in checked], dtype="string")
    frame["pixel_row"] = pd.array([rows.get(c.product_id) for c in checked], dtype="Int64")
    frame["image_sha1"] = pd.array([c.sha1 for c in checked], dtype="string")
    frame["duplicate_group"] = pd.array([None] * len(frame), dtype="Int64")
    frame.to_parquet(out_dir / "products.parquet", index=False)
    pixels = np.stack([c.pixels for c in usable if c.pixels is not None])
    np.save(out_dir / "pixels.npy", pixels)
    digest = hashlib.sha256(pixels.tobytes())
    digest.update(frame["id"].to_numpy().tobytes())
    (out_dir / "catalog.sha256").write_text(digest.hexdigest() + "\n")
    frame["image_file"] = (f"{out_dir.name}/images/" + frame["id"].astype(str) + ".png").where(
        frame["has_image"]
    )
    database = CatalogueDB(out_dir.parent / DATABASE_FILE, create=True)
    database.fill(FASHION, frame, digest.hexdigest(), discard_live_writes=True)
    database.close()
    return out_dir
