"""`lookalike bench {quality,recall,api,all,report}`: run benchmarks, write results and the report."""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.results import RESULTS_DIR
from bench.suites import ALL, BY_NAME, SUITES, positive
from core.settings import Settings

DEFAULT_QUERIES = 1000
DEFAULT_SEED = 7


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    common.add_argument(
        "--queries", type=positive(int), default=DEFAULT_QUERIES, help="held-out query products"
    )
    common.add_argument("--seed", type=int, default=DEFAULT_SEED, help="query sample and bootstrap")
    return common


def register(subparsers: Any) -> None:
    """Add `bench` and a sub-command per suite (`bench.suites.SUITES`), `all` and `report`."""
    bench = subparsers.add_parser("bench", help="benchmarks: quality, ANN speed, HTTP load")
    commands = bench.add_subparsers(dest="benchmark", required=True)
    common = _common()
    for suite in SUITES:
        parser = commands.add_parser(suite.command, parents=[common], help=suite.help)
        if suite.options is not None:
            suite.options(parser)
        parser.set_defaults(run=partial(run, names=(suite.name,)))
    every = commands.add_parser("all", parents=[common], help=f"{', '.join(ALL)}")
    for name in ALL:
        if (options := BY_NAME[name].options) is not None:
            options(every)
    every.set_defaults(run=partial(run, names=ALL))
    report = commands.add_parser("report", help="redraw REPORT.md and plots from the JSON")
    report.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    report.set_defaults(run=partial(run, names=()))


def run(args: argparse.Namespace, names: tuple[str, ...]) -> int:
    """Run the named benchmarks in order, save each, then redraw the report and plots."""
    from bench.plots import draw_all
    from bench.report import write_report
    from bench.results import load_all, save

    settings = Settings().override(data_dir=args.data_dir)
    started = time.perf_counter()
    for name in names:
        began = time.perf_counter()
        body = BY_NAME[name].run(settings, args)
        print(f"wrote {save(args.out, name, body, time.perf_counter() - began)}", flush=True)
    if len(names) > 1:
        save(args.out, "all", {"benchmarks": list(names)}, time.perf_counter() - started)
    documents = load_all(args.out)
    for path in [*draw_all(documents, args.out), write_report(documents, args.out)]:
        print(f"wrote {path}")
    return 0
