"""The API section of the report: load per concurrency, goals, stages, floor and soak."""

from __future__ import annotations

from typing import Any

from bench import reference as ref
from bench.markdown import MIB, num, table, verdict

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
