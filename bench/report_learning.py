"""The learning-loop section of the report (`lookalike bench learning`)."""

from __future__ import annotations

from typing import Any

from bench.markdown import num, table, verdict
from bench.reference import GOAL_EVENTS_PER_S, GOAL_LOGGING_RATIO, GOAL_RANKER_ADDED_P50_MS


def _interval(low_high: list[float] | None) -> str:
    return "n/a" if not low_high else f"[{low_high[0]:.3f}, {low_high[1]:.3f}]"


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def _ab_rows(name: str, doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for arm in doc["result"]["arms"]:
        rows.append(
            [
                name,
                arm["name"],
                f"{arm['lists']:,}",
                f"{arm['ctr']:.4f} {_interval(arm['ctr_ci'])}",
                "—" if arm["lift"] is None else _lift(arm),
                "—" if arm["p_value"] is None else _p(arm["p_value"]),
            ]
        )
    return rows


def _runs(doc: dict[str, Any]) -> str:
    """When each group of phases ran, and under what load."""
    runs: dict[tuple[str, str], list[str]] = {}
    for phase, run in doc["phases"].items():
        start, end = run["load_average"]
        runs.setdefault((run["on"], f"{start:.1f} → {end:.1f}"), []).append(phase)
    return "; ".join(f"{', '.join(p)} on {day} (load {load})" for (day, load), p in runs.items())


def _lift(point: dict[str, Any]) -> str:
    return f"{point['lift']:+.3f} {_interval(point['lift_ci'])}"


def _interleave_line(name: str, doc: dict[str, Any]) -> str:
    result = doc["result"]
    first, second = (arm["name"] for arm in result["arms"])
    return (
        f"- {name}, interleaved: {second} won {result['wins']:,} lists, {first} "
        f"{result['losses']:,}, ties {result['ties']:,}; sign test p = {_p(result['p_value'])}"
    )


def _significance_rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for pair, ab, interleave in (
        ("hybrid vs clip", "models_ab", "models_interleave"),
        ("learned vs static", "ranker_ab", "ranker_interleave"),
    ):
        rows.append(
            [pair, *(_lists(doc[key]["lists_to_significance"]) for key in (ab, interleave))]
        )
    return rows


def _lists(settled: int | None) -> str:
    return "not within the run" if settled is None else f"{settled:,}"


def learning_section(doc: dict[str, Any]) -> list[str]:
    """Experiments, the ranker, event ingest, logging and exploration costs."""
    ranker, cost = doc["ranker"], doc["ranker_cost"]
    model = cost["model_ms"]
    metrics = ranker["metrics"]
    embedded, postgres = doc["events_embedded"], doc["events_postgres"]
    logging, explore = doc["logging"], doc["exploration"]
    bias_rows = [
        [name, num(scores["validation_ndcg5"]), num(scores["test_ndcg5"])]
        for name, scores in metrics["position_bias"].items()
    ]
    lift_rows = [
        [
            f"{p['training_lists']:,}",
            num(p["ndcg5_learned"]),
            num(p["ndcg5_served"]),
            _lift(p),
        ]
        for p in doc["lift_vs_data"]
    ]
    return [
        "## Learning from shoppers",
        "",
        f"Simulated shoppers ({doc['shoppers']:,}, `lookalike simulate`'s hidden tastes: two "
        "favourite colours, their gender, the query's type, and a position bias) through a real "
        "`lookalike serve` (embedded Qdrant, SQLite event store); CTR = lists with a click ÷ lists. "
        f"Phases and the machine's 1-minute load average at their start and end: {_runs(doc)} "
        "(2 cores; above 1, other work shared them, which lowers the rates and raises the "
        "latencies below).",
        "",
        *table(
            ("experiment", "arm", "lists", "CTR [95 %]", "lift [95 %]", "p"),
            _ab_rows("hybrid vs clip (A/B)", doc["models_ab"])
            + _ab_rows("learned vs static (A/B)", doc["ranker_ab"]),
        ),
        "",
        _interleave_line("hybrid vs clip", doc["models_interleave"]),
        _interleave_line("learned vs static", doc["ranker_interleave"]),
        "",
        "Lists served until p < 0.05 for good (read every 2,000 lists):",
        "",
        *table(("pair", "A/B", "interleaving"), _significance_rows(doc)),
        "",
        "![learning](learning.png)",
        "",
        f"Ranker {ranker['version']}: {ranker['trees']} trees, trained on "
        f"{ranker['window']['train_lists']:,} lists; held-out tail "
        f"({metrics['test_lists_evaluated']:,} clicked lists): NDCG@5 learned "
        f"**{num(metrics['ndcg5_learned'])}** against the served order's "
        f"{num(metrics['ndcg5_served'])}. Position-bias handling, chosen on validation "
        f"(`{ranker['position_bias']}`):",
        "",
        *table(("position bias", "validation NDCG@5", "test NDCG@5"), bias_rows),
        "",
        "Lift of the learned ranker over static (A/B, "
        f"{doc['plan']['lift_lists_per_arm']:,} lists per arm) by training data:",
        "",
        *table(("lists logged", "NDCG@5 learned", "NDCG@5 served", "CTR lift [95 %]"), lift_rows),
        "",
        f"Ranker cost, uncached `GET /recommend` ({cost['learned']['requests']} requests each, "
        f"alternated): static p50 {cost['static']['p50_ms']:.2f} / p99 "
        f"{cost['static']['p99_ms']:.2f} ms, learned p50 {cost['learned']['p50_ms']:.2f} / p99 "
        f"{cost['learned']['p99_ms']:.2f} ms: **{cost['added_p50_ms']:+.2f} ms p50** added "
        f"(goal ≤ {GOAL_RANKER_ADDED_P50_MS} ms: "
        f"{verdict(cost['added_p50_ms'] <= GOAL_RANKER_ADDED_P50_MS)}; the whole request, "
        "features and explanations included).",
        "",
        f"In process, the model alone ({'lleaves-compiled' if model['compiled'] else 'LightGBM'}): "
        f"predict on 50 candidates p50 {model['predict_50']['p50_ms']:.3f} / p99 "
        f"{model['predict_50']['p99_ms']:.3f} ms; explanations of the 5 shown (LightGBM's "
        "`pred_contrib`, looked up in per-tree tables) "
        f"p50 {model['contributions_5']['p50_ms']:.3f} / p99 "
        f"{model['contributions_5']['p99_ms']:.3f} ms.",
        "",
        f"Events ingested (`POST /events`, batches of 1,000, two clients, one API process): "
        f"embedded SQLite **{embedded['per_second']:,.0f}/s**, PostgreSQL "
        f"**{postgres['per_second']:,.0f}/s** (goal ≥ {GOAL_EVENTS_PER_S:,}/s embedded: "
        f"{verdict(embedded['per_second'] >= GOAL_EVENTS_PER_S)}; "
        "Metarank documents 1,000–3,000/s on import).",
        "",
        f"List logging, uncached `/recommend` (wrk, {logging['connections']} connections, "
        f"{len(logging['runs']['on'])} × {logging['seconds']:.0f} s each way, alternated): "
        f"{logging['rps']['on']:.0f} req/s on against {logging['rps']['off']:.0f} off: ratio "
        f"**{logging['ratio']:.3f}** (goal ≥ {GOAL_LOGGING_RATIO}: "
        f"{verdict(logging['ratio'] >= GOAL_LOGGING_RATIO)}).",
        "",
        f"Exploration at a {explore['share']:.0%} share: explored lists' CTR "
        f"{explore['ctr']['explored']:.4f} ({explore['lists']['explored']:,} lists) against "
        f"{explore['ctr']['other']:.4f} ({explore['lists']['other']:,}): explored − other "
        f"{-explore['cost_per_explored_list']:+.4f} CTR per explored list, so a 5 % share "
        f"moves the overall CTR by {-0.05 * explore['cost_per_explored_list']:+.4f}.",
        "",
        *_exploration_gain(explore),
    ]


def _exploration_gain(explore: dict[str, Any]) -> list[str]:
    """What exploration gave the next model (absent from runs before it was measured)."""
    if "next_model" not in explore:
        return []
    rows = [
        [
            label,
            f"{point['training_lists']:,}",
            f"{point['static_ctr']:.4f} / {point['learned_ctr']:.4f}",
            _lift(point),
            _p(point["p_value"]),
        ]
        for label, point in (
            ("trained with exploration", explore["next_model"]["with_exploration"]),
            ("trained without", explore["next_model"]["without"]),
        )
    ]
    return [
        "What it gives the next model: a model trained on those lists against one trained on "
        "as many lists served without exploration, each A/B-tested against static in its own "
        "shop:",
        "",
        *table(("next model", "lists logged", "CTR static / learned", "lift [95 %]", "p"), rows),
        "",
    ]
