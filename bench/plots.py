"""PNG plots of the benchmark results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

from bench.reference import (
    GOAL_API_CACHED_SHARE,
    GOAL_API_UNCACHED_P99_MS,
    GOAL_API_UNCACHED_SHARE,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first

DPI = 120


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def frontier(quality: dict[str, Any], path: Path) -> Path:
    """Precision@5 against ILD@5 over the λ sweep, one curve per model, in two spaces."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    spaces = (("ild_own", "ILD@5, model's own space"), ("ild_common", "ILD@5, CLIP image space"))
    for axis, (key, title) in zip(axes, spaces, strict=True):
        for model, result in quality["models"].items():
            sweep = result["lambdas"]
            lambdas = sorted(sweep, key=float)
            xs = [sweep[lam][key]["mean"] for lam in lambdas]
            ys = [sweep[lam]["precision"]["mean"] for lam in lambdas]
            (line,) = axis.plot(xs, ys, marker="o", markersize=3, label=model)
            for lam, marker in ((quality["mmr_off"], "s"), (quality["mmr_on"], "*"), ("0.0", "v")):
                if lam in sweep:
                    at = lambdas.index(lam)
                    axis.plot(xs[at], ys[at], marker=marker, markersize=10, color=line.get_color())
        axis.set_xlabel(title)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("Precision@5")
    axes[0].legend()
    figure.suptitle(
        f"Relevance–diversity frontier: MMR λ 0 → 1 (▼ λ=0, ★ λ={quality['mmr_on']}, "
        f"■ λ={quality['mmr_off']}: MMR off)"
    )
    return _save(figure, path)


def scaling(recall: dict[str, Any], path: Path) -> Path:
    """p50 latency, recall@10 and build time against collection size, one line per index."""
    sizes = sorted(recall["sizes"].values(), key=lambda s: s["count"])
    names = list(dict.fromkeys(name for size in sizes for name in size["contestants"]))
    figure, (latency, recall_axis, build) = plt.subplots(1, 3, figsize=(15, 4.5))
    for name in names:
        points = [s for s in sizes if name in s["contestants"]]
        counts = [s["count"] for s in points]
        results = [s["contestants"][name] for s in points]
        (line,) = latency.plot(
            counts, [r["latency_ms"]["p50"] for r in results], marker="o", label=name
        )
        latency.plot(
            counts,
            [r["filtered"]["latency_ms"]["p50"] for r in results],
            marker="x",
            linestyle="--",
            color=line.get_color(),
        )
        recall_axis.plot(counts, [r["recall_at_k"] for r in results], marker="o", label=name)
        build.plot(counts, [r["build_s"] for r in results], marker="o", label=name)
    latency.set_ylabel("single-query p50 (ms); dashed: filtered")
    recall_axis.set_ylabel(f"recall@{recall['k']} vs exact")
    build.set_ylabel("build time (s)")
    for axis in (latency, recall_axis, build):
        axis.set_xscale("log")
        axis.set_xlabel("collection size (vectors)")
        axis.grid(alpha=0.3, which="both")
    latency.set_yscale("log")
    build.set_yscale("log")
    latency.legend(fontsize=8)
    figure.suptitle(f"Scaling on {recall['model']} vectors (perturbed copies above the real set)")
    return _save(figure, path)


def api_load(api: dict[str, Any], path: Path) -> Path:
    """/recommend req/s as a share of /health's, per set-up and connections; uncached p50/p99."""
    figure, (share, latency) = plt.subplots(1, 2, figsize=(11, 4))
    setups = {
        "uncached": api["uncached"],
        "cache (memory, Zipf)": api["cached"],
        "2 workers + Redis (Zipf)": api["redis_workers"]["runs"],
    }
    levels = sorted({int(c) for runs in setups.values() for c in runs})
    width = 0.8 / len(setups)
    for n, (label, runs) in enumerate(setups.items()):
        xs = [levels.index(int(c)) + n * width for c in runs]
        share.bar(xs, [100 * r["share_of_health"] for r in runs.values()], width, label=label)
    share.set_xticks([i + width for i in range(len(levels))], [str(c) for c in levels])
    share.axhline(100 * GOAL_API_UNCACHED_SHARE, color="C0", linestyle=":", label="uncached goal")
    share.axhline(100 * GOAL_API_CACHED_SHARE, color="C1", linestyle=":", label="cached goal")
    share.set_ylabel("/recommend req/s, % of /health")
    share.legend(fontsize=8)
    uncached = api["uncached"]
    connections = sorted(uncached, key=int)
    for percentile in ("p50_ms", "p99_ms"):
        latency.plot(
            connections,
            [uncached[c][percentile] for c in connections],
            marker="o",
            label=percentile.removesuffix("_ms"),
        )
    latency.axhline(GOAL_API_UNCACHED_P99_MS, color="C1", linestyle=":", label="p99 goal (4)")
    latency.set_yscale("log")
    latency.set_ylabel("uncached latency (ms)")
    latency.legend()
    for axis in (share, latency):
        axis.set_xlabel("connections")
        axis.grid(alpha=0.3)
    figure.suptitle("GET /recommend over HTTP (wrk), one 2-core machine")
    return _save(figure, path)


def soak_rss(api: dict[str, Any], path: Path) -> Path:
    """Server RSS during the soak run."""
    samples = api["soak"]["rss"]
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot([s["t"] for s in samples], [s["bytes"] / 2**20 for s in samples], marker=".")
    axis.set_xlabel("seconds into the soak")
    axis.set_ylabel("server RSS (MiB)")
    axis.grid(alpha=0.3)
    return _save(figure, path)


def learning(doc: dict[str, Any], path: Path) -> Path:
    """p-value against lists served per experiment, and the learned ranker's lift by data."""
    figure, (trajectory, lift) = plt.subplots(1, 2, figsize=(12, 4.2))
    for key, label in (
        ("models_ab", "hybrid vs clip, A/B"),
        ("models_interleave", "hybrid vs clip, interleaved"),
        ("ranker_ab", "learned vs static, A/B"),
        ("ranker_interleave", "learned vs static, interleaved"),
    ):
        points = [p for p in doc[key]["trajectory"] if p["p_value"] is not None]
        p_values = [max(p["p_value"], 1e-300) for p in points]
        trajectory.plot([p["lists"] for p in points], p_values, marker=".", label=label)
    trajectory.axhline(0.05, color="grey", linestyle="--", linewidth=1)
    trajectory.set(xlabel="lists served", ylabel="p-value (log; below 1e-20 clipped)")
    trajectory.set(yscale="log", ylim=(1e-20, 2.0))
    trajectory.set_title("how fast each design tells the arms apart")
    trajectory.legend(fontsize=8)
    points = doc["lift_vs_data"]
    x = [p["training_lists"] for p in points]
    y = [p["lift"] for p in points]
    errors = [
        [p["lift"] - p["lift_ci"][0] for p in points],
        [p["lift_ci"][1] - p["lift"] for p in points],
    ]
    lift.errorbar(x, y, yerr=errors, marker="o", capsize=3)
    lift.axhline(0.0, color="grey", linestyle="--", linewidth=1)
    lift.set(xlabel="lists logged for training", ylabel="CTR lift over static", xscale="log")
    lift.set_title("learned ranker: lift by training data (95 % intervals)")
    for axis in (trajectory, lift):
        axis.grid(alpha=0.3)
    return _save(figure, path)


def draw_all(documents: dict[str, dict[str, Any]], out: Path) -> list[Path]:
    """Every plot whose data is present."""
    drawn = []
    if "quality" in documents:
        drawn.append(frontier(documents["quality"], out / "frontier.png"))
    if "recall" in documents and documents["recall"]["sizes"]:
        drawn.append(scaling(documents["recall"], out / "scaling.png"))
    if "api" in documents:
        drawn.append(api_load(documents["api"], out / "api.png"))
        if documents["api"].get("soak"):
            drawn.append(soak_rss(documents["api"], out / "soak.png"))
    if "learning" in documents:
        drawn.append(learning(documents["learning"], out / "learning.png"))
    return drawn
