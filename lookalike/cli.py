"""The `lookalike` console script: one sub-command per pipeline stage.

Each stage package may provide a `commands` module with `register(subparsers)`; the CLI
collects them, so a stage adds its commands without touching this file.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import LookalikeError

STAGES = ("catalogue", "embed", "store", "api", "ui", "simulate", "ranker", "bench")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every stage's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="lookalike", description="Similar-product recommendations, explained."
    )
    parser.add_argument(
        "--data-dir", type=Path, help="generated files (env LOOKALIKE_DATA, default data)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for stage in STAGES:
        try:
            module = importlib.import_module(f"{stage}.commands")
        except ModuleNotFoundError as exc:
            if exc.name != f"{stage}.commands":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; errors a user can fix are printed without a traceback."""
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except LookalikeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was replaced, the previous output is intact", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
