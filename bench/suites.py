"""The benchmark suites: each says its arguments, how it runs and its report section.

`lookalike bench <command>` and `bench/results/REPORT.md` are both built from `SUITES`; a new
benchmark is one `Suite` here (its run and its section import their modules on first use: the
engines and torch are slow to import).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.reference import GOAL_API_CONCURRENCY
from core.settings import Settings

Document = dict[str, Any]
DEFAULT_SIZES = ("10k", "real", "200k", "1M")


@dataclass(frozen=True)
class Suite:
    """One benchmark: `command` on the CLI, `name` of its results document, the options it adds,
    what it runs and the report section it renders (None: not in the report)."""

    command: str
    name: str
    help: str
    run: Callable[[Settings, argparse.Namespace], Document]
    options: Callable[[argparse.ArgumentParser], None] | None = None
    section: Callable[[Document], list[str]] | None = None


def _queries(settings: Settings, args: argparse.Namespace) -> Any:
    from bench.quality import QUALITY_MODELS
    from bench.queries import select_queries

    return select_queries(settings, QUALITY_MODELS, args.queries, args.seed)


def _quality(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.quality import run_quality

    return {"seed": args.seed, **run_quality(settings, _queries(settings, args), args.seed)}


def _text(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.text_search import run_text

    return {"seed": args.seed, **run_text(settings, args.seed)}


def _tune_hybrid(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.tune_hybrid import run_tuning

    return {"seed": args.seed, **run_tuning(settings, args.queries, args.seed)}


def _tune_text(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.tune_text import run_text_tuning

    return {"seed": args.seed, **run_text_tuning(settings, args.seed)}


def _recall(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.speed import run_recall

    server = os.environ.get("QDRANT_URL")
    queries = _queries(settings, args)
    return run_recall(settings, queries, args.sizes, args.seed, server, args.latency_budget)


def _api(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.load import run_api

    queries = _queries(settings, args)
    return run_api(
        settings, queries, args.seed, args.model, args.concurrency, args.seconds, args.soak
    )


def _writes(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.writes import run_writes

    body = run_writes(settings, args.adds, args.sync_new, args.seed, args.soak)
    return {"seed": args.seed, **body}


def _writes_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--adds", type=positive(int), default=50, help="products added")
    parser.add_argument(
        "--sync-new", type=positive(int), default=200, help="new products in the synced source"
    )
    parser.add_argument(
        "--soak", type=float, default=0.0, metavar="SECONDS", help="16 readers + 1 writer after"
    )


def _section(module: str, function: str) -> Callable[[Document], list[str]]:
    def render(document: Document) -> list[str]:
        import importlib

        section: Callable[[Document], list[str]] = getattr(
            importlib.import_module(module), function
        )
        return section(document)

    return render


def positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` above zero."""

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
        type=positive(float),
        default=5.0,
        help="seconds of single-query timing per index and mode",
    )


def _api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="clip", help="model queried over HTTP")
    parser.add_argument(
        "--concurrency",
        nargs="+",
        type=positive(int),
        default=[1, 4, GOAL_API_CONCURRENCY],
        metavar="N",
    )
    parser.add_argument(
        "--seconds", type=positive(float), default=10.0, help="load per concurrency level"
    )
    parser.add_argument(
        "--soak", type=float, default=0.0, metavar="SECONDS", help="soak run after the levels"
    )


def _learning(settings: Settings, args: argparse.Namespace) -> Document:
    from bench.learning import PHASES, Plan, run_learning

    plan = Plan(
        lists_per_arm=args.lists_per_arm,
        lift_lists_per_arm=args.lift_lists_per_arm,
        explore_lists=args.explore_lists,
        events=args.events,
        model=args.model,
        train_minutes=args.train_minutes,
        seed=args.seed,
        log_seconds=args.log_seconds,
        log_pairs=args.log_pairs,
    )
    phases = tuple(p for p in PHASES if p in args.phases)
    earlier = args.out / "learning.json"
    previous = json.loads(earlier.read_text()) if phases != PHASES and earlier.is_file() else None
    return run_learning(settings, plan, phases, previous)


def _learning_options(parser: argparse.ArgumentParser) -> None:
    from bench.learning import PHASES

    parser.add_argument(
        "--lists-per-arm", type=positive(int), default=20_000, help="lists per experiment arm"
    )
    parser.add_argument(
        "--lift-lists-per-arm",
        type=positive(int),
        default=3_000,
        help="lists per arm of each lift-by-data A/B test",
    )
    parser.add_argument(
        "--explore-lists", type=positive(int), default=10_000, help="lists with exploration on"
    )
    parser.add_argument(
        "--events", type=positive(int), default=100_000, help="events posted for the ingest rate"
    )
    parser.add_argument("--model", default="clip", help="model of the ranker experiments")
    parser.add_argument(
        "--train-minutes", type=positive(float), default=5.0, help="budget per ranker training"
    )
    parser.add_argument(
        "--log-seconds", type=positive(float), default=15.0, help="wrk run per logging setting"
    )
    parser.add_argument(
        "--log-pairs", type=positive(int), default=3, help="logging on/off runs, alternated"
    )
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=PHASES,
        default=list(PHASES),
        help="phases to run; the others keep their results from the previous run",
    )


SUITES: tuple[Suite, ...] = (
    Suite(
        "quality",
        "quality",
        "top-5 quality per model",
        _quality,
        section=_section("bench.report_quality", "quality_section"),
    ),
    Suite(
        "text",
        "text",
        "text-search quality per model",
        _text,
        section=_section("bench.report_text", "text_section"),
    ),
    Suite(
        "tune-hybrid",
        "tune_hybrid",
        "choose Hybrid's weights on the validation split",
        _tune_hybrid,
    ),
    Suite(
        "tune-text",
        "tune_text",
        "choose CLIP's text-query phrasing on validation phrases",
        _tune_text,
    ),
    Suite(
        "recall",
        "recall",
        "ANN speed, recall, scaling",
        _recall,
        _recall_options,
        _section("bench.report_speed", "speed_section"),
    ),
    Suite(
        "api",
        "api",
        "HTTP load on /recommend",
        _api,
        _api_options,
        _section("bench.report_api", "api_section"),
    ),
    Suite(
        "writes",
        "writes",
        "live catalogue: add latency, reads during writes, sync",
        _writes,
        _writes_options,
        _section("bench.report_writes", "writes_section"),
    ),
    Suite(
        "learning",
        "learning",
        "simulated shoppers: A/B, interleaving, the learned ranker, events, logging",
        _learning,
        _learning_options,
        _section("bench.report_learning", "learning_section"),
    ),
)
BY_NAME = {suite.name: suite for suite in SUITES}
# `lookalike bench all`: these, in this order.
ALL = ("quality", "text", "recall", "api")
