"""PNG plots of the benchmark results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

from bench.reference import GOAL_API_P50_MS, GOAL_API_P99_MS, GOAL_API_RPS

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
    """Client-side p50/p99 latency and throughput per concurrency level."""
    levels = sorted(api["runs"], key=int)
    runs = [api["runs"][level] for level in levels]
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(10, 4))
    for percentile in ("p50", "p99"):
        latency.plot(
            levels, [r["latency_ms"][percentile] for r in runs], marker="o", label=percentile
        )
    latency.axhline(GOAL_API_P50_MS, color="C0", linestyle=":", label="p50 goal")
    latency.axhline(GOAL_API_P99_MS, color="C1", linestyle=":", label="p99 goal")
    latency.set_yscale("log")
    latency.set_ylabel("latency (ms)")
    latency.legend()
    throughput.bar(levels, [r["throughput_rps"] for r in runs])
    throughput.axhline(GOAL_API_RPS, color="C3", linestyle=":", label="goal")
    throughput.legend()
    throughput.set_ylabel("requests/s")
    for axis in (latency, throughput):
        axis.set_xlabel("concurrent clients")
        axis.grid(alpha=0.3)
    figure.suptitle("GET /recommend over HTTP")
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
    return drawn
