"""The quality section of the report: headline tables, the reference, native MMR."""

from __future__ import annotations

from typing import Any

from bench import reference as ref
from bench.markdown import ci, num, table

NATIVE_HEADER = (
    "model",
    "Jaccard of the 5",
    "identical sets",
    "P@5 ours / native",
    "ILD@5 ours / native",
    "p50 ms ours (recall+MMR) / native",
)


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


def examples_section(doc: dict[str, Any]) -> list[str]:
    """Several examples: P@5 per strategy against one positive, and POST against GET latency."""
    if not doc.get("sessions"):
        return []
    names = ["single", "average_vector", "best_score", "sum_scores"]
    rows = [
        [model, *(ci(result["examples"][n]) for n in names)]
        for model, result in doc["models"].items()
    ]
    lines = [
        "### Several examples (`POST /recommend`)",
        "",
        f"{doc['sessions']} sessions of 3 held-out positives sharing an articleType and colour, "
        "1 negative of another type; P@5 = share of the top 5 with the session's type and "
        "colour (mean [95% bootstrap interval]); 'single' is its first positive alone through "
        "`GET /recommend`'s pipeline. λ 0.7, soft category mode.",
        "",
        *table(["model", "single positive", *names[1:]], rows),
        "",
    ]
    latency = doc["examples_latency"]
    lines += [
        f"Latency over HTTP ({latency['model']}, {latency['backend']}, cache off, interleaved "
        "requests): POST with 3 positives and 1 negative (best_score) against GET of the "
        "first positive; goal ≤ 1.5×.",
        "",
        *table(
            ["route", "p50 ms", "p99 ms"],
            [
                ["POST /recommend", num(latency["post"]["p50"], 2), num(latency["post"]["p99"], 2)],
                ["GET /recommend", num(latency["get"]["p50"], 2), num(latency["get"]["p99"], 2)],
                ["ratio", num(latency["p50_ratio"], 2), num(latency["p99_ratio"], 2)],
            ],
        ),
        "",
    ]
    return lines


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
        "query product excluded, through `recommend.pipeline.recommend` on the live collections. "
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
        *examples_section(doc),
    ]
    return lines
