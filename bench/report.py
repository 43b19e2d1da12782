"""`bench/results/REPORT.md`: the benchmark documents rendered as Markdown tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import reference as ref

MIB = 2**20
NATIVE_HEADER = (
    "model",
    "Jaccard of the 5",
    "identical sets",
    "P@5 ours / native",
    "ILD@5 ours / native",
    "p50 ms ours (recall+MMR) / native",
)
API_HEADER = (
    "clients",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "requests",
    "errors",
    "server CPU (cores)",
    "client CPU (cores)",
)
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


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def num(value: float | None, digits: int = 3) -> str:
    """A number, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def ci(interval: dict[str, float]) -> str:
    """Mean with its 95% interval."""
    return f"{num(interval['mean'])} [{num(interval['low'])}, {num(interval['high'])}]"


def verdict(met: bool) -> str:
    """Goal status."""
    return "**met**" if met else "**missed**"


def _quality_rows(models: dict[str, Any], lam: str) -> list[list[str]]:
    rows = []
    for model, result in models.items():
        at = result["lambdas"][lam]
        latency = at["latency_ms"]
        rows.append(
            [model]
            + [ci(at[m]) for m in ("precision", "consistency", "ild_own", "ild_common", "spread")]
            + [ci(at["soft_category"]), f"{num(latency['mean'], 2)} / {num(latency['p50'], 2)}"]
        )
    return rows


def _reference_rows(models: dict[str, Any], lam: str) -> list[list[str]]:
    rows = []
    for model, published in ref.REFERENCE.items():
        if model not in models:
            continue
        ours = models[model]["lambdas"][lam]
        pairs = [
            (ours["precision"]["mean"], published.precision),
            (ours["consistency"]["mean"], published.consistency),
            (ours["ild_own"]["mean"], published.ild),
            (ours["spread"]["mean"], published.spread),
        ]
        cells = [f"{num(o)} / {num(p)} ({o - p:+.3f})" for o, p in pairs]
        cells.append(f"{num(ours['latency_ms']['mean'], 2)} / {num(published.latency_ms, 2)}")
        rows.append([model, *cells])
    return rows


def _native_rows(models: dict[str, Any]) -> list[list[str]]:
    rows = []
    for model, result in models.items():
        native = result["native_mmr"]
        if not native["available"]:
            rows.append([model, native["reason"], "", "", "", ""])
            continue
        rows.append(
            [
                model,
                num(native["jaccard"]),
                num(native["identical_sets"]),
                f"{num(native['precision_ours'])} / {num(native['precision_native'])}",
                f"{num(native['ild_own_ours'])} / {num(native['ild_own_native'])}",
                f"{num(native['latency_ours']['p50'])} / {num(native['latency_native']['p50'])}",
            ]
        )
    return rows


def quality_section(doc: dict[str, Any]) -> list[str]:
    """Headline tables, the reference comparison, the frontier and native MMR."""
    models, on, off = doc["models"], doc["mmr_on"], doc["mmr_off"]
    header = ["model", "Precision@5", "Consistency", "ILD@5 own", "ILD@5 CLIP", "Spread@5"]
    header += ["soft category@5", "latency mean / p50 (ms)"]
    any_model = next(iter(models.values()), {"candidates": "?"})
    lines = [
        "## Quality (`lookalike bench quality`)",
        "",
        f"{doc['queries']} held-out query products (saved split, products with an image, seed "
        f"{doc['seed']}), top-{doc['top_k']} from {any_model['candidates']} ANN candidates, "
        "query product excluded, through `api.pipeline.recommend` on the live collections. "
        "Cells: mean [95% bootstrap interval]. ILD@5 is given in each model's own space and in "
        f"the common {doc['common_space']} image space (comparable across models). Latency: "
        "pipeline only (recall + MMR + re-rank), query vector already stored.",
        "",
        f"### MMR on (λ = {on})",
        "",
        *table(header, _quality_rows(models, on)),
        "",
        f"### MMR off (λ = {off})",
        "",
        *table(header, _quality_rows(models, off)),
        "",
        "### Beside the published reference (ours / reference (difference), MMR on)",
        "",
        *table(
            ["model", "Precision@5", "Consistency", "ILD@5", "Spread@5", "latency (ms)"],
            _reference_rows(models, on),
        ),
        "",
        "What differs from the reference:",
        "",
        *[f"- {line}" for line in ref.REFERENCE_DIFFERENCES],
        "- ILD@5 here is measured in each model's own space, like the reference; the CLIP-space "
        "column above is the comparable one.",
        "",
        "### Relevance–diversity frontier",
        "",
        "![frontier](frontier.png)",
        "",
        f"### Our MMR vs Qdrant's native MMR (λ = {on}, same candidates, query excluded)",
        "",
        *table(
            NATIVE_HEADER,
            _native_rows(models),
        ),
        "",
    ]
    return lines


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
            f"payload_m={size['hnsw']['payload_m']}",
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
        "Above the real set, points are real vectors plus Gaussian noise (renormalised), carrying "
        "the source product's payload. To fit the time budget on 2 CPUs, large collections "
        "(≥ 100k) use a narrower HNSW construction beam and skip int8 Qdrant, and huge ones "
        "(≥ 500k) build only FAISS flat (the ground truth) and embedded Qdrant.",
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


def _api_rows(runs: dict[str, Any]) -> list[list[str]]:
    return [
        [level, num(r["throughput_rps"], 0)]
        + [num(r["latency_ms"][p], 2) for p in ("p50", "p95", "p99")]
        + [str(r["requests"]), str(r["errors"])]
        + [num(r["server_cpu_cores"], 2), num(r["client_cpu_cores"], 2)]
        for level, r in sorted(runs.items(), key=lambda item: int(item[0]))
    ]


def _stage_rows(runs: dict[str, Any]) -> list[list[str]]:
    rows = []
    for level, r in sorted(runs.items(), key=lambda item: int(item[0])):
        stages = r["server_stages_ms"]
        rows.append(
            [level]
            + [num(stages[s]["p50"]) for s in ("recall_ms", "mmr_ms", "rerank_ms", "total_ms")]
            + [num(r["latency_ms"]["p50"]), num(r["outside_pipeline_ms"]["p50"])]
        )
    return rows


def _api_goals(runs: dict[str, Any]) -> list[str]:
    goal = runs.get(str(ref.GOAL_API_CONCURRENCY))
    first = runs.get("1")
    lines = []
    if first is not None:
        p50, p99 = first["latency_ms"]["p50"], first["latency_ms"]["p99"]
        lines.append(
            f"- p50 ≤ {ref.GOAL_API_P50_MS:g} ms (1 client): {num(p50, 2)} ms "
            f"{verdict(p50 <= ref.GOAL_API_P50_MS)}; p99 ≤ {ref.GOAL_API_P99_MS:g} ms: "
            f"{num(p99, 2)} ms {verdict(p99 <= ref.GOAL_API_P99_MS)}."
        )
    if goal is not None:
        rps = goal["throughput_rps"]
        lines.append(
            f"- ≥ {ref.GOAL_API_RPS:g} req/s at {ref.GOAL_API_CONCURRENCY} clients: {num(rps, 0)} "
            f"{verdict(rps >= ref.GOAL_API_RPS)} (p99 there {num(goal['latency_ms']['p99'], 2)} ms "
            f"{verdict(goal['latency_ms']['p99'] <= ref.GOAL_API_P99_MS)})."
        )
    return lines


def api_section(doc: dict[str, Any]) -> list[str]:
    """Load per concurrency, goals, the stage breakdown and the soak."""
    runs = doc["runs"]
    any_run = next(iter(runs.values()))
    lines = [
        "## API (`lookalike bench api`)",
        "",
        f"`GET /recommend?model={doc['model']}` on a `lookalike serve` subprocess "
        f"({doc['backend']}, full catalogue; ready after {doc['startup_s']:.1f} s, RSS "
        f"{doc['server_rss_bytes'] / MIB:.0f} MiB), closed-loop client threads (keep-alive "
        "`http.client` connections) on the same 2-CPU machine, random held-out products, "
        f"{any_run['seconds']:.0f} s per level. CPU: cores used on average by the server "
        "process and by the load generator during the level.",
        "",
        *table(API_HEADER, _api_rows(runs)),
        "",
        "Goals:",
        "",
        *_api_goals(runs),
        "",
        "Where the time goes (p50, ms): server pipeline stages from the response `timings`, the "
        "client-side latency, and outside the pipeline = client latency − pipeline total (HTTP, "
        "Litestar, JSON, the query-vector fetch, the client itself and, with several clients, "
        "queueing).",
        "",
        *table(
            ["clients", "recall", "MMR", "re-rank", "pipeline", "client", "outside pipeline"],
            _stage_rows(runs),
        ),
        "",
        "The HTTP floor: `GET /health` (no work) with the same clients.",
        "",
        *table(API_HEADER, _api_rows(doc["health_floor"])),
        "",
        "![api](api.png)",
        "",
    ]
    soak = doc.get("soak")
    if soak:
        lines += [
            f"### Soak: {soak['seconds'] / 60:.1f} min at {soak['concurrency']} clients",
            "",
            f"{soak['requests']} requests, {soak['errors']} errors, {soak['throughput_rps']:.0f} "
            f"req/s, p99 {num(soak['latency_ms']['p99'], 2)} ms. Server RSS "
            f"{'flat' if soak['rss_flat'] else 'NOT flat'} (growth "
            f"{soak['rss_growth_bytes'] / MIB:+.1f} MiB over the run).",
            "",
            "![soak](soak.png)",
            "",
        ]
    return lines


def render(documents: dict[str, dict[str, Any]]) -> str:
    """The whole report from whichever benchmark documents exist."""
    lines = [
        "# Lookalike benchmarks",
        "",
        "Generated by `lookalike bench`; do not edit by hand.",
        "",
    ]
    for name, doc in documents.items():
        meta = doc["meta"]
        load = "/".join(f"{x:.1f}" for x in meta["load_avg"])
        lines.append(
            f"- `{name}`: finished {meta['finished']}, {meta['seconds'] / 60:.1f} min, "
            f"{meta['cpus']} CPUs, Python {meta['python']}, load average (1/5/15 min) at the "
            f"end {load}"
        )
    if "all" in documents:
        minutes = documents["all"]["meta"]["seconds"] / 60
        lines.append(
            f"- `bench all` took {minutes:.1f} min (goal < {ref.GOAL_TOTAL_MINUTES:g} min): "
            f"{verdict(minutes < ref.GOAL_TOTAL_MINUTES)}"
        )
    lines.append("")
    sections = {"quality": quality_section, "recall": speed_section, "api": api_section}
    for name, section in sections.items():
        if name in documents:
            lines += section(documents[name])
    return "\n".join(lines).rstrip() + "\n"


def write_report(documents: dict[str, dict[str, Any]], out: Path) -> Path:
    """Write REPORT.md next to the JSON documents."""
    path = out / "REPORT.md"
    path.write_text(render(documents))
    return path
