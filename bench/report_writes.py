"""The live-catalogue section of the report."""

from __future__ import annotations

from typing import Any

from bench.markdown import table


def _ms(latency: dict[str, float]) -> list[str]:
    return [f"{latency['p50']:.1f}", f"{latency['p95']:.1f}", f"{latency['p99']:.1f}"]


def writes_section(doc: dict[str, Any]) -> list[str]:
    """Add latency, reads without and during writes, and sync throughput."""
    rows = [
        [f"POST /products with a photo (all models), {doc['adds']} adds", *_ms(doc["add_ms"])],
        ["GET /recommend (CLIP), no writes", *_ms(doc["recommend_ms_idle"])],
        ["GET /recommend (CLIP), during the adds", *_ms(doc["recommend_ms_during_writes"])],
    ]
    sync = doc["sync"]
    return [
        "## Live catalogue",
        "",
        "A real `lookalike serve` (embedded Qdrant) over a copy of the served state; one writer, "
        "one reader, milliseconds.",
        "",
        *table(("operation", "p50", "p95", "p99"), rows),
        "",
        f"`lookalike sync` of a source with {sync['new_products']} new products, "
        f"{sync['seconds_total']:.1f} s in all (planning reads every photo): "
        + sync["summary"].splitlines()[0],
        "",
        *_soak_lines(doc.get("soak")),
    ]


def _soak_lines(soak: dict[str, Any] | None) -> list[str]:
    if not soak:
        return []
    readers, writer = soak["readers"], soak["writer"]
    growth = readers["rss_growth_bytes"] / 1e6
    return [
        f"Mixed soak, {readers['seconds']:.0f} s: 16 readers made {readers['requests']:,} requests "
        f"({readers['errors']} errors, p99 {readers['latency_ms']['p99']:.1f} ms) while one writer "
        f"made {writer['writes']:,} writes ({writer['errors']} errors); server memory "
        f"{'flat' if readers['rss_flat'] else 'NOT flat'} ({growth:+.1f} MB).",
        "",
    ]
