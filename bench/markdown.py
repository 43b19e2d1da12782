"""Markdown helpers of the report: tables, numbers, intervals and goal verdicts."""

from __future__ import annotations

from collections.abc import Sequence

MIB = 2**20


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def num(value: float | None, digits: int = 3) -> str:
    """A number, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def ci(interval: dict[str, float]) -> str:
    """Mean with its 95% interval."""
    return f"{num(interval['mean'])} [{num(interval['low'])}, {num(interval['high'])}]"


def verdict(met: bool) -> str:
    """Goal status."""
    return "**met**" if met else "**missed**"
