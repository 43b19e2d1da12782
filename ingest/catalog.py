"""Build the validated catalogue (`data/catalog/`) from a source table and its images, atomically."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from core.errors import LookalikeError
from core.schema import CatalogueSchema, save_schema
from ingest.download import Downloader, is_url
from ingest.images import IMAGE_SIZE, CheckedImage, check_image
from ingest.table import IMAGE_SOURCE, RowIssue, SourceTable, normalise_name

INGEST_VERSION = 1
PRODUCTS_FILE = "products.parquet"
PIXELS_FILE = "pixels.npy"
REPORT_FILE = "report.json"
HASH_FILE = "catalog.sha256"


class SourceError(LookalikeError):
    """The catalogue folder is missing or unreadable."""


IMAGE_CACHE = "image-cache"  # in the data folder: photos downloaded from the source's URLs


def image_reference(schema: CatalogueSchema, product: Mapping[str, Any]) -> str | None:
    """A product's image as the source names it: a relative path or a URL (None: no image)."""
    if schema.image_template is not None:
        return schema.image_template.format(id=product["id"])
    value = product.get(IMAGE_SOURCE)
    return None if value is None or pd.isna(value) else str(value)


def image_urls(schema: CatalogueSchema, frame: pd.DataFrame) -> list[str]:
    """The image URLs of a source table's products."""
    references = (image_reference(schema, p) for p in frame.to_dict("records"))
    return [r for r in references if r is not None and is_url(r)]


def image_path(
    source: Path,
    schema: CatalogueSchema,
    product: Mapping[str, Any],
    downloads: Mapping[str, Path | str],
) -> Path | str:
    """Where a product's image is (in `source`, or downloaded: `Downloader.fetch_all`), or
    why it has none (a reason, not a path)."""
    reference = image_reference(schema, product)
    if reference is None:
        return "missing: no image given"
    if is_url(reference):
        return downloads.get(reference, "missing: not downloaded")
    relative = Path(reference)
    if relative.is_absolute() or ".." in relative.parts:
        return f"missing: image path {reference!r} leaves the catalogue folder"
    return source / relative


def _image_stat(path: Path | str) -> str:
    if isinstance(path, str):
        return path
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise SourceError(
            f"{path.parent}: images folder unreadable ({exc.strerror}); fix its permissions"
        ) from exc
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def source_fingerprint(source: Path, schema: CatalogueSchema, table: SourceTable) -> str:
    """A hash of the schema, the table file and every product image's size and mtime, plus the
    ingest version."""
    digest = hashlib.sha256(f"ingest-v{INGEST_VERSION}-{IMAGE_SIZE}".encode())
    digest.update(json.dumps(schema.as_dict(), sort_keys=True).encode())
    digest.update((source / schema.table).read_bytes())
    for product in table.frame.to_dict("records"):
        reference = image_reference(schema, product)
        known = reference is not None and is_url(reference)  # a URL's photo is cached by URL
        state = reference if known else _image_stat(image_path(source, schema, product, {}))
        digest.update(f"{product['id']}:{state}\n".encode())
    return digest.hexdigest()


def _issues(rows: list[RowIssue]) -> list[dict[str, Any]]:
    return [{"line": r.line, "id": r.id, "reason": r.reason} for r in rows]


_pixels: np.ndarray | None = None  # each worker's view of the shared pixels file


def _open_pixels(path: Path) -> None:
    global _pixels
    _pixels = np.load(path, mmap_mode="r+")


def _check_one(task: tuple[int, int, Path | str], out_dir: Path) -> CheckedImage:
    """Check one image in a worker; its pixels go straight into the shared file, not the pipe."""
    row, product_id, path = task
    if isinstance(path, str):
        return CheckedImage(product_id, None, None, path)
    checked = check_image(product_id, path, out_dir)
    if checked.pixels is not None and _pixels is not None:
        _pixels[row] = checked.pixels
    return replace(checked, pixels=None)


def _check_all(
    frame: pd.DataFrame,
    source: Path,
    schema: CatalogueSchema,
    build: Path,
    workers: int,
    downloads: Mapping[str, Path | str],
) -> list[CheckedImage]:
    """Check every image on `workers` processes; pixels land in row i of `pixels.npy` for row i."""
    tasks = [
        (row, int(product["id"]), image_path(source, schema, product, downloads))
        for row, product in enumerate(frame.to_dict("records"))
    ]
    pixels = np.lib.format.open_memmap(
        build / PIXELS_FILE,
        mode="w+",
        dtype=np.uint8,
        shape=(len(tasks), IMAGE_SIZE, IMAGE_SIZE, 3),
    )
    pixels.fill(255)
    pixels.flush()
    del pixels
    check = partial(_check_one, out_dir=build / "images")
    with Pool(workers, initializer=_open_pixels, initargs=(build / PIXELS_FILE,)) as pool:
        results = pool.imap(check, tasks, chunksize=128)
        return list(tqdm(results, total=len(tasks), desc="images", unit="img", mininterval=2))


def _duplicate_groups(frame: pd.DataFrame) -> pd.Series:
    shared = frame[frame["image_sha1"].notna()].groupby("image_sha1")["id"].transform("size") > 1
    sha = frame["image_sha1"].where(shared.reindex(frame.index, fill_value=False))
    codes = {h: i for i, h in enumerate(sorted(sha.dropna().unique()))}
    return sha.map(codes).astype("Int64")


def _report(
    frame: pd.DataFrame,
    table: SourceTable,
    schema: CatalogueSchema,
    fingerprint: str,
    elapsed: float,
    source: Path,
) -> dict[str, Any]:
    without = frame[~frame["has_image"]]
    kinds = without["image_issue"].str.split(":").str[0]
    groups = frame[frame["duplicate_group"].notna()].groupby("duplicate_group")["id"].apply(list)
    return {
        "source": str(source),
        "fingerprint": fingerprint,
        "ingest_version": INGEST_VERSION,
        "image_size": IMAGE_SIZE,
        "rows_read": table.rows_read,
        "rows_kept": len(frame),
        "rows_repaired": len(table.repaired),
        "repaired": _issues(table.repaired),
        "rows_rejected": len(table.rejected),
        "rejected_rows": _issues(table.rejected),
        "warnings": _issues(table.warnings),
        "nulls": {c: int(frame[c].isna().sum()) for c in schema.fields[1:]},
        "with_image": int(frame["has_image"].sum()),
        "without_image": len(without),
        "images_rejected_by_reason": dict(Counter(kinds.tolist())),
        "ids_without_image": {
            kind: sorted(int(i) for i in without.loc[kinds == kind, "id"])
            for kind in sorted(set(kinds))
        },
        "duplicate_groups": len(groups),
        "duplicate_ids": int(frame["duplicate_group"].notna().sum()),
        "duplicates": [[int(i) for i in sorted(ids)] for ids in groups],
        "seconds": round(elapsed, 1),
    }


def _swap_in(build: Path, catalog_dir: Path) -> None:
    """Point `catalog_dir` (a symlink) at `build` in one atomic rename; drop older builds."""
    link = catalog_dir.with_name(catalog_dir.name + ".link-tmp")
    link.unlink(missing_ok=True)
    link.symlink_to(build.relative_to(catalog_dir.parent))
    if catalog_dir.exists() and not catalog_dir.is_symlink():
        shutil.rmtree(catalog_dir)
    os.replace(link, catalog_dir)
    for old in build.parent.iterdir():
        if old != build:
            shutil.rmtree(old, ignore_errors=True)


def current_fingerprint(catalog_dir: Path) -> str | None:
    """The source fingerprint of the catalogue in place, if there is one."""
    try:
        return str(json.loads((catalog_dir / REPORT_FILE).read_text())["fingerprint"])
    except (OSError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class StagedCatalog:
    """A built catalogue folder, not yet in place: `swap_in` puts it there, `discard` drops it."""

    build: Path
    frame: pd.DataFrame
    report: dict[str, Any]


def stage_catalog(
    source: Path,
    catalog_dir: Path,
    schema: CatalogueSchema,
    table: SourceTable,
    fingerprint: str,
    workers: int = 2,
    started: float | None = None,
    downloader: Downloader | None = None,
) -> StagedCatalog:
    """Check every row and image of `source` into a new build folder beside `catalog_dir`
    (`started`: when the ingest began, for the report's duration; `downloader`: how image URLs
    are fetched, by default into `image-cache/` beside `catalog_dir`)."""
    started = time.perf_counter() if started is None else started
    builds = catalog_dir.with_name(catalog_dir.name + ".builds")
    build = builds / f"{fingerprint[:12]}-{os.getpid()}-{time.time_ns()}"
    (build / "images").mkdir(parents=True)
    try:
        frame = table.frame.copy()
        frame["name"] = frame[schema.title].map(normalise_name, na_action="ignore")
        frame["name"] = frame["name"].astype("string")
        downloader = downloader or Downloader(catalog_dir.parent / IMAGE_CACHE)
        downloads = downloader.fetch_all(image_urls(schema, frame))
        checked = _check_all(frame, source, schema, build, workers, downloads)
        frame["has_image"] = [c.issue is None for c in checked]
        frame["image_issue"] = pd.array([c.issue for c in checked], dtype="string")
        rows = pd.Series(range(len(frame)), index=frame.index, dtype="Int64")
        frame["pixel_row"] = rows.where(frame["has_image"])
        frame["image_sha1"] = pd.array([c.sha1 for c in checked], dtype="string")
        frame["duplicate_group"] = _duplicate_groups(frame)
        frame = frame.drop(columns=["line", IMAGE_SOURCE], errors="ignore")
        frame.to_parquet(build / PRODUCTS_FILE, index=False)
        save_schema(schema, build)
        elapsed = time.perf_counter() - started
        report = _report(frame, table, schema, fingerprint, elapsed, source)
        (build / REPORT_FILE).write_text(json.dumps(report, indent=1))
        (build / HASH_FILE).write_text(fingerprint + "\n")
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return StagedCatalog(build, frame, report)


def swap_in(staged: StagedCatalog, catalog_dir: Path) -> None:
    """Point `catalog_dir` at the staged build; drop older builds."""
    _swap_in(staged.build, catalog_dir)


def discard(staged: StagedCatalog) -> None:
    """Drop a staged build that will not be used."""
    shutil.rmtree(staged.build, ignore_errors=True)


def load_catalog(catalog_dir: Path) -> pd.DataFrame:
    """The ingested products table; a clear error when ingest has not run."""
    path = catalog_dir / PRODUCTS_FILE
    if not path.is_file():
        raise LookalikeError(f"{path} not found: run `lookalike ingest` first")
    return pd.read_parquet(path)


def catalog_hash(catalog_dir: Path) -> str:
    """The fingerprint identifying the catalogue build in place."""
    return (catalog_dir / HASH_FILE).read_text().strip()
