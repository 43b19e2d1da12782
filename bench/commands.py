"""`lookalike bench {quality,recall,api,all,report}`: run benchmarks, write results and the report."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.reference import GOAL_API_CONCURRENCY
from bench.results import RESULTS_DIR
from lookalike.settings import Settings

DEFAULT_QUERIES = 1000
DEFAULT_SEED = 7
DEFAULT_SIZES = ("10k", "real", "200k", "1M")


def _positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _size(text: str) -> int | None:
    from bench.scaling import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    common.add_argument(
        "--queries", type=_positive(int), default=DEFAULT_QUERIES, help="held-out query products"
    )
    common.add_argument("--seed", type=int, default=DEFAULT_SEED, help="query sample and bootstrap")
    return common


def _recall_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=_size,
        default=[_size(s) for s in DEFAULT_SIZES],
        metavar="SIZE",
        help=f"collection sizes: 'real' or counts like 10k, 1M (default {' '.join(DEFAULT_SIZES)})",
    )
    parser.add_argument(
        "--latency-budget",
        type=_positive(float),
        default=5.0,
        help="seconds of single-query timing per index and mode",
    )


def _api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="clip", help="model queried over HTTP")
    parser.add_argument(
        "--concurrency",
        nargs="+",
        type=_positive(int),
        default=[1, 4, GOAL_API_CONCURRENCY],
        metavar="N",
    )
    parser.add_argument(
        "--seconds", type=_positive(float), default=10.0, help="load per concurrency level"
    )
    parser.add_argument(
        "--soak", type=float, default=0.0, metavar="SECONDS", help="soak run after the levels"
    )


def register(subparsers: Any) -> None:
    """Add `bench` and its sub-commands to the CLI."""
    bench = subparsers.add_parser("bench", help="benchmarks: quality, ANN speed, HTTP load")
    commands = bench.add_subparsers(dest="benchmark", required=True)
    common = _common()
    quality = commands.add_parser("quality", parents=[common], help="top-5 quality per model")
    text = commands.add_parser("text", parents=[common], help="text-search quality per model")
    tune = commands.add_parser(
        "tune-hybrid", parents=[common], help="choose Hybrid's weights on the validation split"
    )
    tune_text = commands.add_parser(
        "tune-text",
        parents=[common],
        help="choose CLIP's text-query phrasing on validation phrases",
    )
    recall = commands.add_parser("recall", parents=[common], help="ANN speed, recall, scaling")
    _recall_options(recall)
    api = commands.add_parser("api", parents=[common], help="HTTP load on /recommend")
    _api_options(api)
    writes = commands.add_parser(
        "writes", parents=[common], help="live catalogue: add latency, reads during writes, sync"
    )
    writes.add_argument("--adds", type=_positive(int), default=50, help="products added")
    writes.add_argument(
        "--sync-new", type=_positive(int), default=200, help="new products in the synced source"
    )
    writes.add_argument(
        "--soak", type=float, default=0.0, metavar="SECONDS", help="16 readers + 1 writer after"
    )
    every = commands.add_parser("all", parents=[common], help="quality, text, recall and api")
    _recall_options(every)
    _api_options(every)
    report = commands.add_parser("report", help="redraw REPORT.md and plots from the JSON")
    report.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    quality.set_defaults(run=lambda args: run(args, ("quality",)))
    text.set_defaults(run=lambda args: run(args, ("text",)))
    tune.set_defaults(run=lambda args: run(args, ("tune_hybrid",)))
    tune_text.set_defaults(run=lambda args: run(args, ("tune_text",)))
    recall.set_defaults(run=lambda args: run(args, ("recall",)))
    api.set_defaults(run=lambda args: run(args, ("api",)))
    writes.set_defaults(run=lambda args: run(args, ("writes",)))
    every.set_defaults(run=lambda args: run(args, ("quality", "text", "recall", "api")))
    report.set_defaults(run=lambda args: run(args, ()))


def _benchmark(name: str, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from bench.load import run_api
    from bench.quality import QUALITY_MODELS, run_quality
    from bench.queries import select_queries
    from bench.speed import run_recall
    from bench.text_search import run_text
    from bench.tune_hybrid import run_tuning

    if name == "writes":
        from bench.writes import run_writes

        body = run_writes(settings, args.adds, args.sync_new, args.seed, args.soak)
        return {"seed": args.seed, **body}
    if name == "text":
        return {"seed": args.seed, **run_text(settings, args.seed)}
    if name == "tune_text":
        from bench.tune_text import run_text_tuning

        return {"seed": args.seed, **run_text_tuning(settings, args.seed)}
    if name == "tune_hybrid":
        return {"seed": args.seed, **run_tuning(settings, args.queries, args.seed)}
    queries = select_queries(settings, QUALITY_MODELS, args.queries, args.seed)
    if name == "quality":
        return {"seed": args.seed, **run_quality(settings, queries, args.seed)}
    if name == "recall":
        server = os.environ.get("QDRANT_URL")
        return run_recall(settings, queries, args.sizes, args.seed, server, args.latency_budget)
    return run_api(
        settings, queries, args.seed, args.model, args.concurrency, args.seconds, args.soak
    )


def run(args: argparse.Namespace, names: tuple[str, ...]) -> int:
    """Run the named benchmarks in order, save each, then redraw the report and plots."""
    from bench.plots import draw_all
    from bench.report import write_report
    from bench.results import load_all, save

    settings = Settings().override(data_dir=args.data_dir)
    started = time.perf_counter()
    for name in names:
        began = time.perf_counter()
        body = _benchmark(name, settings, args)
        print(f"wrote {save(args.out, name, body, time.perf_counter() - began)}", flush=True)
    if len(names) > 1:
        save(args.out, "all", {"benchmarks": list(names)}, time.perf_counter() - started)
    documents = load_all(args.out)
    for path in [*draw_all(documents, args.out), write_report(documents, args.out)]:
        print(f"wrote {path}")
    return 0
