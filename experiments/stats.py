"""An experiment's results: CTR per arm with its interval, the lift over the first arm, the
z-test, the sample-ratio check, and for interleaving the sign test over wins and losses.

The formulas come from statsmodels and scipy, not written again here.
"""

from __future__ import annotations

import math

import msgspec
from scipy.stats import binomtest, chisquare
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from events.store import ExperimentRun, RunCounts

ALPHA = 0.05


class ArmResult(msgspec.Struct, kw_only=True):
    """One arm's exact counts and its statistics (lift and p-value against the first arm)."""

    name: str
    weight: float
    overrides: dict[str, object]
    users: int
    lists: int
    lists_clicked: int
    clicks: int
    add_to_carts: int
    purchases: int
    ctr: float | None
    ctr_ci: list[float] | None
    lift: float | None
    lift_ci: list[float] | None
    p_value: float | None


class ExperimentResult(msgspec.Struct, kw_only=True):
    """`GET /experiments/{name}`."""

    name: str
    design: str
    status: str  # running | stopped
    started_at: float
    stopped_at: float | None
    arms: list[ArmResult]
    srm_p_value: float | None
    wins: int | None = None
    losses: int | None = None
    ties: int | None = None
    p_value: float | None = None


def ctr_interval(clicked: int, lists: int) -> tuple[float | None, list[float] | None]:
    """CTR and its 95 % Wilson interval; None without lists."""
    if lists == 0:
        return None, None
    low, high = proportion_confint(clicked, lists, alpha=ALPHA, method="wilson")
    return clicked / lists, [float(low), float(high)]


def lift_test(
    clicked: int, lists: int, base_clicked: int, base_lists: int
) -> tuple[float | None, list[float] | None, float | None]:
    """Relative lift of a CTR over the base CTR, its 95 % interval (ratio of proportions,
    log-adjusted) and the two-sided pooled two-proportion z-test's p-value."""
    if lists == 0 or base_lists == 0 or base_clicked == 0:
        return None, None, None
    lift = (clicked / lists) / (base_clicked / base_lists) - 1.0
    low, high = confint_proportions_2indep(
        clicked, lists, base_clicked, base_lists, compare="ratio", alpha=ALPHA
    )
    _, p_value = proportions_ztest([clicked, base_clicked], [lists, base_lists])
    return lift, [float(low) - 1.0, float(high) - 1.0], _finite(p_value)


def srm_p_value(observed: list[int], weights: list[float]) -> float | None:
    """Chi-square test of the lists per arm against the arms' weights (sample-ratio mismatch)."""
    total = sum(observed)
    if total == 0:
        return None
    expected = [total * w / sum(weights) for w in weights]
    return _finite(chisquare(observed, expected).pvalue)


def sign_test(wins: int, losses: int) -> float | None:
    """Two-sided sign test: is the second arm winning more lists than it loses?"""
    if wins + losses == 0:
        return None
    return float(binomtest(wins, wins + losses, 0.5).pvalue)


def results(run: ExperimentRun, counts: RunCounts) -> ExperimentResult:
    """Every arm's counts and statistics for one run."""
    interleaved = run.design == "interleave"
    arms = []
    for spec in run.arms:
        name = spec["name"]
        lists = counts.total_lists if interleaved else counts.lists.get(name, 0)
        clicked = counts.lists_with.get((name, "click"), 0)
        ctr, ctr_ci = ctr_interval(clicked, lists)
        arms.append(
            ArmResult(
                name=name,
                weight=spec["weight"],
                overrides=spec.get("overrides", {}),
                users=counts.total_users if interleaved else counts.users.get(name, 0),
                lists=lists,
                lists_clicked=clicked,
                clicks=counts.events.get((name, "click"), 0),
                add_to_carts=counts.events.get((name, "add_to_cart"), 0),
                purchases=counts.events.get((name, "purchase"), 0),
                ctr=ctr,
                ctr_ci=ctr_ci,
                lift=None,
                lift_ci=None,
                p_value=None,
            )
        )
    base = arms[0]
    for arm in arms[1:]:
        arm.lift, arm.lift_ci, arm.p_value = lift_test(
            arm.lists_clicked, arm.lists, base.lists_clicked, base.lists
        )
    observed = [counts.lists.get(spec["name"], 0) for spec in run.arms]
    result = ExperimentResult(
        name=run.name,
        design=run.design,
        status="running" if run.active else "stopped",
        started_at=run.started_at,
        stopped_at=run.stopped_at,
        arms=arms,
        # Interleaving: every list shows both arms; the coin decides who picks first, 50/50.
        srm_p_value=srm_p_value(
            observed, [1.0 if interleaved else float(spec["weight"]) for spec in run.arms]
        ),
    )
    if interleaved:
        first, second = (spec["name"] for spec in run.arms)
        wins = losses = 0
        for teams in counts.team_clicks.values():
            a, b = teams.get(first, 0), teams.get(second, 0)
            wins, losses = wins + (b > a), losses + (b < a)
        result.wins, result.losses = wins, losses
        result.ties = counts.total_lists - wins - losses
        result.p_value = sign_test(wins, losses)
    return result


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
