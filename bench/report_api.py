"""The API section of the report: uncached cost, the cache with Zipf traffic, Redis + workers."""

from __future__ import annotations

from typing import Any

from bench import reference as ref
from bench.markdown import MIB, num, table, verdict

HEADER = ("connections", "req/s", "/health req/s", "share", "p50 ms", "p99 ms", "errors", "hits")


def _rows(runs: dict[str, Any]) -> list[list[str]]:
    return [
        [
            level,
            num(r["throughput_rps"], 0),
            num(r["health_rps"], 0),
            f"{100 * r['share_of_health']:.0f} %",
            num(r["p50_ms"], 2),
            num(r["p99_ms"], 2),
            str(r["errors"]),
            "–" if r["hit_rate"] is None else f"{100 * r['hit_rate']:.1f} %",
        ]
        for level, r in sorted(runs.items(), key=lambda item: int(item[0]))
    ]


def _goals(doc: dict[str, Any]) -> list[str]:
    at = str(ref.GOAL_API_CONNECTIONS)
    lines = []
    if (uncached := doc["uncached"].get(at)) is not None:
        share, p99 = uncached["share_of_health"], uncached["p99_ms"]
        lines.append(
            f"- Uncached, {at} connections: ≥ {100 * ref.GOAL_API_UNCACHED_SHARE:.0f} % of /health: "
            f"{100 * share:.0f} % {verdict(share >= ref.GOAL_API_UNCACHED_SHARE)}; p99 ≤ "
            f"{ref.GOAL_API_UNCACHED_P99_MS:g} ms: {num(p99, 2)} ms "
            f"{verdict(p99 <= ref.GOAL_API_UNCACHED_P99_MS)}."
        )
    if (cached := doc["cached"].get(at)) is not None:
        share = cached["share_of_health"]
        lines.append(
            f"- Cache on, Zipf products, {at} connections: ≥ {100 * ref.GOAL_API_CACHED_SHARE:.0f} "
            f"% of /health: {100 * share:.0f} % {verdict(share >= ref.GOAL_API_CACHED_SHARE)} "
            f"(hit rate {100 * cached['hit_rate']:.1f} %)."
        )
    return lines


def api_section(doc: dict[str, Any]) -> list[str]:
    """Three set-ups against their /health floor, the stage means, the optional soak."""
    stages = doc["stages_ms"]
    any_run = next(iter(doc["uncached"].values()))
    lines = [
        "## API (`lookalike bench api`)",
        "",
        f"`GET /recommend?model={doc['model']}` on `lookalike serve` subprocesses (full "
        f"catalogue), loaded by wrk (C, keep-alive connections, {any_run['seconds']:.0f} s per "
        "level) on the same 2-core machine; `/health` (no work) measured right after on the same "
        "server is the HTTP floor, and share = /recommend req/s ÷ /health req/s. Access logs off "
        "(they cost a few % per request). hits: share of requests the response cache answered.",
        "",
        f"Uncached ({doc['backend']}, LOOKALIKE_CACHE=off; ready after {doc['startup_s']:.1f} s, "
        f"RSS {doc['server_rss_bytes'] / MIB:.0f} MiB), uniformly random products:",
        "",
        *table(HEADER, _rows(doc["uncached"])),
        "",
        f"Server-side means per request: recall {num(stages['recall'], 3)} ms, MMR "
        f"{num(stages['mmr'], 3)} ms, re-rank {num(stages['rerank'], 3)} ms.",
        "",
        f"In-process cache, products drawn by Zipf's law (exponent {doc['zipf_exponent']}, "
        "popularity a random permutation of the catalogue), after a 3 s warm-up:",
        "",
        *table(HEADER, _rows(doc["cached"])),
        "",
        "Two worker processes (`--workers 2`, FAISS: a backend several processes can open) "
        "sharing one Redis (Debian redis-server on loopback), the same Zipf traffic:",
        "",
        *table(HEADER, _rows(doc["redis_workers"]["runs"])),
        "",
        "Goals:",
        "",
        *_goals(doc),
        "",
        "![api](api.png)",
        "",
    ]
    soak = doc.get("soak")
    if soak:
        lines += [
            f"### Soak: {soak['seconds'] / 60:.1f} min at {soak['concurrency']} clients (uncached)",
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
