"""The speed section of the report: the real-size table, goals and the scaling table."""

from __future__ import annotations

from typing import Any

from bench import reference as ref
from bench.markdown import MIB, num, table, verdict

SCALING_HEADER = (
    "size",
    "vectors",
    "HNSW build",
    "index",
    "build s",
    "p50 ms",
    "recall@10",
    "filt. p50 ms",
    "filt. recall@10",
    "load 1 min",
)


def _speed_rows(contestants: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in contestants.items():
        filtered = r["filtered"]
        disk = r["disk_bytes"]
        rows.append(
            [
                name,
                num(r["build_s"], 1),
                "n/a" if disk is None else num(disk / MIB, 0),
                num(r["rss_delta_bytes"] / MIB, 0),
                *(num(r["latency_ms"][p]) for p in ("p50", "p95", "p99")),
                num(r["throughput_qps"], 0),
                num(r["recall_at_k"], 4),
                num(filtered["latency_ms"]["p50"]),
                num(filtered["latency_ms"]["p99"]),
                num(filtered["recall_at_k"], 4),
                num(r["filter_slowdown_p50"], 2) + "×",
            ]
        )
    return rows


def _real_size(doc: dict[str, Any]) -> dict[str, Any] | None:
    return next((s for label, s in doc["sizes"].items() if label.endswith("(real)")), None)


def _speed_goals(real: dict[str, Any]) -> list[str]:
    contestants = real["contestants"]
    lines = []
    for name, r in contestants.items():
        if name.startswith("qdrant-embedded"):
            p50, recall = r["latency_ms"]["p50"], r["recall_at_k"]
            met = p50 <= ref.GOAL_P50_MS and recall >= ref.GOAL_RECALL
            lines.append(
                f"- {name} (search ef {r['search_ef']}): p50 ≤ {ref.GOAL_P50_MS} ms with "
                f"recall@10 ≥ {ref.GOAL_RECALL}: p50 {num(p50)} ms, recall {num(recall, 4)} — "
                f"{verdict(met)}."
            )
    slowdowns = ", ".join(
        f"{name} {num(r['filter_slowdown_p50'], 2)}× "
        f"{verdict(r['filter_slowdown_p50'] <= ref.GOAL_FILTER_SLOWDOWN)}"
        for name, r in contestants.items()
    )
    lines.append(
        f"- Filtered no more than {ref.GOAL_FILTER_SLOWDOWN:g}× slower than unfiltered (p50): "
        f"{slowdowns}."
    )
    return lines


def _exact_scan(size: dict[str, Any]) -> str:
    # Runs recorded before the exact-scan threshold was saved lack it.
    limit = size.get("full_scan_below")
    return "" if limit is None else f"; exact scan ≤ {limit:,}"


def speed_section(doc: dict[str, Any]) -> list[str]:
    """The real-collection table, goals, and the scaling table and plot."""
    header = ["index", "build s", "disk MiB", "RSS Δ MiB", "p50 ms", "p95 ms", "p99 ms"]
    header += ["batch q/s", "recall@10", "filt. p50", "filt. p99", "filt. recall@10", "filt./plain"]
    lines = [
        "## Speed (`lookalike bench recall`)",
        "",
        f"{doc['queries']} queries (the quality queries' {doc['model']} vectors), k = {doc['k']}, "
        "all figures from one process run. Searches return ids and scores only "
        "(`with_payload=False`, like the API's recall stage, which takes payloads from the "
        "catalogue). Latency: one query per call (p50/p95/p99 over the queries that fit a time "
        "budget; FAISS pinned to one OpenMP thread there, as two threads made single queries "
        "up to 25× slower on this shared machine); throughput: batches of 256, all threads. "
        "Search beam (ef): the store's default unless the "
        "index name says otherwise. Filtered: the query's own "
        "articleType. Recall against FAISS flat (exact), with the same filter when filtered. "
        "RSS Δ: resident memory of this process after opening the index and searching, minus "
        "before (mapped files count once touched). Qdrant server: "
        + (f"`{doc['server']}`." if doc["server"] else "not measured (QDRANT_URL unset)."),
        "",
    ]
    real = _real_size(doc)
    if real is not None:
        lines += [*table(header, _speed_rows(real["contestants"])), "", "Goals:", ""]
        lines += [*_speed_goals(real), ""]
    scale_rows = [
        [
            label,
            f"{size['count']:,}",
            f"m={size['hnsw']['m']}, ef_c={size['hnsw']['ef_construct']}, "
            f"payload_m={size['hnsw']['payload_m']}{_exact_scan(size)}",
            name,
            num(r["build_s"], 1),
            num(r["latency_ms"]["p50"]),
            num(r["recall_at_k"], 4),
            num(r["filtered"]["latency_ms"]["p50"]),
            num(r["filtered"]["recall_at_k"], 4),
            num(r["load_avg_1m"], 1),
        ]
        for label, size in doc["sizes"].items()
        for name, r in size["contestants"].items()
    ]
    lines += [
        "### Scaling",
        "",
        "Below the real size: a seeded subset that keeps the query products (in production the "
        "query product is in the collection). Above it: the real set plus copies of real "
        "vectors with Gaussian noise (renormalised), carrying the source product's payload. To fit the time budget on 2 CPUs, large collections "
        "(≥ 100k) use a narrower HNSW construction beam and skip int8 Qdrant, and huge ones "
        "(≥ 500k) build only FAISS flat (the ground truth) and embedded Qdrant. Both HNSW "
        "stores score every candidate exactly when there are no more than the store's full-scan "
        "threshold of them (`HnswParams.full_scan_threshold_kb`, the 'exact scan ≤' figure), so "
        "sizes below it measure brute force, not the graph.",
        "",
        *table(
            SCALING_HEADER,
            scale_rows,
        ),
        "",
        "Time per size: "
        + ", ".join(
            f"{label} {size['seconds'] / 60:.1f} min" for label, size in doc["sizes"].items()
        )
        + ".",
        "",
        "![scaling](scaling.png)",
        "",
    ]
    return lines
