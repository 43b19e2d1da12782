"""`lookalike sync`: apply a changed catalogue folder to the live catalogue through the write API.

The difference between the source (its table and images, laid out by the catalogue's schema)
and the catalogue database (read here, the API writes it) becomes POST (new ids), PUT (changed metadata or photo) and DELETE (ids gone from the
source), so every change takes the same path as any client's write.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from catalogue.database import CatalogueDB
from catalogue.records import Metadata
from core.errors import LookalikeError
from core.schema import CatalogueSchema
from ingest.catalog import IMAGE_CACHE, image_path, image_urls
from ingest.download import Downloader
from ingest.table import read_table

MAX_RATE_LIMITED = 100  # 429s in a row for one write before sync gives up


class SyncError(LookalikeError):
    """The API refused the sync (not running, no key, or an unexpected answer)."""


@dataclass
class SyncPlan:
    """What differs: ids to add, to replace and to delete."""

    add: list[int] = field(default_factory=list)
    update: list[int] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of writes."""
        return len(self.add) + len(self.update) + len(self.delete)


@dataclass
class SyncReport:
    """What a sync did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    text_only: list[int] = field(default_factory=list)  # photos the API refused
    failed: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self, rows_rejected: int) -> str:
        """A few lines for the terminal."""
        done = self.added + self.updated + self.deleted
        rate = done / self.seconds if self.seconds else 0.0
        lines = [
            f"synced: {self.added} added, {self.updated} updated, {self.deleted} deleted "
            f"in {self.seconds:.1f} s ({rate:.1f} products/s)",
        ]
        if self.text_only:
            lines.append(
                f"{len(self.text_only)} kept text-only (photo refused): {self.text_only[:10]}"
            )
        if rows_rejected:
            lines.append(f"{rows_rejected} source rows rejected (see `lookalike ingest`)")
        for product_id, reason in list(self.failed.items())[:10]:
            lines.append(f"failed {product_id}: {reason}")
        return "\n".join(lines)


def _source_fields(row: Mapping[str, Any], metadata: Metadata) -> dict[str, Any]:
    """A source row as the write API's metadata (the title as `name`)."""
    fields = {f: row[f] for f in metadata.fields[1:] if f != "name"}
    fields["name"] = row[metadata.schema.title]
    return {f: None if _missing(v) else _plain(v) for f, v in fields.items()}


def _plain(value: Any) -> Any:
    """A pandas scalar as JSON takes it (numpy integers and floats become Python's)."""
    return value.item() if hasattr(value, "item") else value


def _missing(value: Any) -> bool:
    return value is None or value != value or str(value) == "<NA>"


def _photo(path: Path | str) -> bytes | None:
    return path.read_bytes() if isinstance(path, Path) and path.is_file() else None


@dataclass(frozen=True)
class SourceProduct:
    """A source row as sync sends it: the metadata and where its photo is."""

    fields: dict[str, Any]
    photo: Path | str  # a path, or why there is none

    def photo_sha1(self) -> str | None:
        """The sha1 of the source photo's bytes (as ingest hashes it), or None."""
        data = _photo(self.photo)
        return None if data is None else hashlib.sha1(data).hexdigest()


def plan_sync(
    source: Path, database: CatalogueDB
) -> tuple[SyncPlan, dict[int, SourceProduct], int]:
    """The writes that make the catalogue match `source` (laid out by the catalogue's schema),
    the source products by id, and how many source rows were rejected."""
    schema: CatalogueSchema = database.schema
    metadata = Metadata(schema)
    table = read_table(source, schema)
    cache = Downloader(database.path.parent / IMAGE_CACHE)
    downloads = cache.fetch_all(image_urls(schema, table.frame))
    wanted = {
        int(r["id"]): SourceProduct(
            _source_fields(r, metadata), image_path(source, schema, r, downloads)
        )
        for r in table.frame.to_dict("records")
    }
    current = {int(r["id"]): r for r in database.records()}
    plan = SyncPlan(delete=sorted(set(current) - set(wanted)))
    for product_id, product in wanted.items():
        record = current.get(product_id)
        if record is None:
            plan.add.append(product_id)
            continue
        stored = {f: record.get(f) for f in metadata.fields} | {"name": record.get(schema.title)}
        fields = product.fields
        photo = product.photo_sha1()
        if not record["has_image"] and not str(record.get("image_issue")).startswith("missing"):
            photo = None  # a photo ingest refused stays refused: not a change
        if fields != {k: stored[k] for k in fields} or photo != record.get("image_sha1"):
            plan.update.append(product_id)
    return plan, wanted, len(table.rejected)


def _field(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("field"))
    except ValueError:
        return None


class Syncer:
    """Sends the planned writes to the API, one product at a time."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def put(self, product_id: int, product: SourceProduct, report: SyncReport) -> None:
        """Create or replace one product with its photo (text-only when the API refuses it)."""
        photo = _photo(product.photo)
        response = self._send(product_id, product.fields, photo)
        refused = response.status_code in (400, 413, 415) and _field(response) == "image"
        if photo is not None and refused:
            report.text_only.append(product_id)
            response = self._send(product_id, product.fields, None)
        self._check(product_id, response, report)

    def delete(self, product_id: int, report: SyncReport) -> None:
        """Remove one product."""
        response = self._request("DELETE", f"/products/{product_id}")
        if response.status_code != 404:
            self._check(product_id, response, report)

    def _send(self, product_id: int, fields: dict[str, Any], photo: bytes | None) -> httpx.Response:
        files = {"image": (f"{product_id}.jpg", photo, "image/jpeg")} if photo else None
        return self._request(
            "PUT", f"/products/{product_id}", data={"metadata": json.dumps(fields)}, files=files
        )

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One write; when the API's rate limit answers 429, wait as long as it says, again
        (MAX_RATE_LIMITED times at most)."""
        for _ in range(MAX_RATE_LIMITED):
            response = self.client.request(method, url, **kwargs)
            if response.status_code != 429:
                return response
            time.sleep(retry_after_seconds(response.headers.get("retry-after")))
        raise SyncError(
            f"the API's rate limit refused {method} {url} {MAX_RATE_LIMITED} times in a row: "
            "raise LOOKALIKE_WRITE_LIMIT on the API, or sync again later (it resumes)"
        )

    def _check(self, product_id: int, response: httpx.Response, report: SyncReport) -> None:
        if response.status_code in (401, 403):
            raise SyncError(f"the API refused the key: {response.json().get('detail')}")
        if response.status_code >= 400:
            report.failed[product_id] = f"{response.status_code} {response.text[:200]}"


def retry_after_seconds(header: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), within [0, 60]."""
    if header is None:
        return 1.0
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return 1.0
    return min(max(seconds, 0.0), 60.0) if math.isfinite(seconds) else 1.0


def run_sync(source: Path, database: CatalogueDB, api_url: str, api_key: str | None) -> str:
    """Plan and apply a sync; returns the summary."""
    if not api_key:
        raise SyncError("set LOOKALIKE_API_KEY (the API's write key) to sync")
    plan, wanted, rejected = plan_sync(source, database)
    report = SyncReport()
    headers = {"Authorization": f"Bearer {api_key}"}
    started = time.perf_counter()
    try:
        with httpx.Client(base_url=api_url, headers=headers, timeout=120) as client:
            syncer = Syncer(client)
            with tqdm(total=plan.size, desc="sync", unit="product") as bar:
                for product_id in plan.add + plan.update:
                    syncer.put(product_id, wanted[product_id], report)
                    bar.update()
                for product_id in plan.delete:
                    syncer.delete(product_id, report)
                    bar.update()
    except httpx.TransportError as exc:
        raise SyncError(
            f"cannot reach the API at {api_url} ({exc}): start it with `lookalike serve` "
            "(writes go through it) or point LOOKALIKE_API_URL at it"
        ) from exc
    report.seconds = time.perf_counter() - started
    report.added = len(plan.add) - sum(1 for i in plan.add if i in report.failed)
    report.updated = len(plan.update) - sum(1 for i in plan.update if i in report.failed)
    report.deleted = len(plan.delete) - sum(1 for i in plan.delete if i in report.failed)
    return report.summary(rejected)
