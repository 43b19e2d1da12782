"""`lookalike sync` against a real API over a private copy of the indexed slice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from catalogue.database import CatalogueDB
from catalogue.sync import SyncError, plan_sync, retry_after_seconds, run_sync
from core.settings import Settings
from service.app import Services
from tests.api.live import API_KEY, copy_data
from tests.conftest import SHARED
from tests.serving import serve_in_thread


def _changed_source(slice_source: Path, target: Path) -> tuple[Path, int, int, int]:
    """The slice's folder with one product renamed, one removed and one new; returns the ids."""
    lines = (slice_source / "styles.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    renamed, removed = rows[0].split(",", 1)[0], rows[1].split(",", 1)[0]
    all_rows = (SHARED / "styles.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    slice_ids = {r.split(",", 1)[0] for r in rows}
    new_row = next(r for r in all_rows[1:] if r.split(",", 1)[0] not in slice_ids)
    renamed_row = rows[0].rstrip("\n").rsplit(",", 1)[0] + ",Renamed By Sync\n"
    target.mkdir(parents=True)
    (target / "styles.csv").write_text(header + renamed_row + "".join(rows[2:]) + new_row)
    (target / "images").symlink_to(SHARED / "images")
    return target, int(renamed), int(removed), int(new_row.split(",", 1)[0])


def test_sync_applies_adds_updates_and_deletes(slice_snapshot: Settings, tmp_path: Path) -> None:
    settings = copy_data(slice_snapshot, tmp_path / "data")
    source, renamed, removed, added = _changed_source(slice_snapshot.source, tmp_path / "raw")
    services = Services.load(settings)
    database = CatalogueDB(settings.catalogue_db)
    plan, _, _ = plan_sync(source, database)
    assert (plan.add, plan.update, plan.delete) == ([added], [renamed], [removed])
    with serve_in_thread(create_app(services, watch_builds=False), "sync API") as url:
        summary = run_sync(source, database, url, API_KEY)
        assert "1 added, 1 updated, 1 deleted" in summary and "products/s" in summary
        http = httpx.Client(base_url=url)
        assert http.get(f"/products/{renamed}").json()["name"] == "Renamed By Sync"
        assert http.get(f"/products/{removed}").status_code == 404
        assert http.get(f"/products/{added}").json()["has_image"]
        again = run_sync(source, database, url, API_KEY)
        assert "0 added, 0 updated, 0 deleted" in again
        with pytest.raises(SyncError, match="refused the key"):
            run_sync(slice_snapshot.source, database, url, "wrong")  # undoing needs writes
    database.close()


def test_sync_needs_a_key_and_a_running_api(slice_indexed: Settings, tmp_path: Path) -> None:
    database = CatalogueDB(slice_indexed.catalogue_db)
    with pytest.raises(SyncError, match="LOOKALIKE_API_KEY"):
        run_sync(slice_indexed.source, database, "http://127.0.0.1:9", None)
    source, *_ = _changed_source(slice_indexed.source, tmp_path / "raw")
    with pytest.raises(SyncError, match="lookalike serve"):
        run_sync(source, database, "http://127.0.0.1:9", API_KEY)
    database.close()


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert retry_after_seconds("7") == 7
    assert 15 < retry_after_seconds(soon) <= 20
    assert retry_after_seconds("3600") == 60  # capped: sync checks again within a minute
    assert (
        retry_after_seconds("soon") == retry_after_seconds("nan") == retry_after_seconds(None) == 1
    )
