"""Sticky assignment by hash, and team-draft interleaving against a hand-worked example."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from experiments.assign import assign
from experiments.design import Arm, InvalidExperiment, parse_spec
from experiments.interleave import team_draft


def test_assignment_is_sticky_and_follows_the_weights() -> None:
    arms = [Arm(name="a", weight=0.5), Arm(name="b", weight=0.3), Arm(name="c", weight=0.2)]
    ids = [f"user-{i}" for i in range(100_000)]
    counts = Counter(assign("exp", arms, user).name for user in ids)
    for arm in arms:
        assert abs(counts[arm.name] / len(ids) - arm.weight) < 0.01
    assert all(assign("exp", arms, u) == assign("exp", arms, u) for u in ids[:1000])
    other = Counter(assign("other", arms, u).name == assign("exp", arms, u).name for u in ids)
    assert other[False] > 0.3 * len(ids)  # a new experiment shuffles shoppers anew


class Coin(random.Random):
    """A coin whose tosses are given in advance."""

    def __init__(self, tosses: list[int]) -> None:
        super().__init__()
        self.tosses = tosses

    def randrange(self, *args: object, **kwargs: object) -> int:
        return self.tosses.pop(0)


def test_team_draft_by_hand() -> None:
    # A = a b c d, B = b a e f, k = 4.
    # Round 1 tie, coin → A: A adds a.  Round 2 B has fewer: B adds b (its first not shown).
    # Round 3 tie, coin → B: B's next not shown is e.  Round 4 A has fewer: A's next is c.
    merged = team_draft(["a", "b", "c", "d"], ["b", "a", "e", "f"], 4, Coin([0, 1]))
    assert merged == [("a", 0), ("b", 1), ("e", 1), ("c", 0)]


def test_team_draft_when_one_ranking_runs_out() -> None:
    merged = team_draft(["a"], ["a", "b", "c"], 3, Coin([0, 0]))
    assert merged == [("a", 0), ("b", 1), ("c", 1)]
    assert team_draft([], [], 5, random.Random(0)) == []


def test_experiment_definitions_are_checked() -> None:
    spec = parse_spec(
        {
            "design": "ab",
            "arms": [
                {"name": "a", "weight": 1, "overrides": {"model": "hybrid"}},
                {"name": "b", "weight": 1, "overrides": {"lambda_diversity": 1}},
            ],
        },
        ("clip", "hybrid"),
    )
    assert spec.arms[0].overrides.values() == {"model": "hybrid"}
    bad = [
        ({"design": "ab", "arms": [{"name": "a"}]}, "arms"),
        ({"design": "interleave", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, "arms"),
        ({"design": "ab", "arms": [{"name": "a"}, {"name": "a"}]}, "arms"),
        ({"design": "ab", "arms": [{"name": "a"}, {"name": "b", "weight": 0}]}, "arms[1].weight"),
        (
            {"design": "ab", "arms": [{"name": "a"}, {"name": "b", "overrides": {"top_k": 3}}]},
            "arms[1].overrides",
        ),
        (
            {"design": "ab", "arms": [{"name": "a"}, {"name": "b", "overrides": {"model": "x"}}]},
            "arms[1].overrides.model",
        ),
        ({"design": "mab", "arms": [{"name": "a"}, {"name": "b"}]}, "design"),
    ]
    for raw, field in bad:
        with pytest.raises(InvalidExperiment) as caught:
            parse_spec(raw, ("clip", "hybrid"))
        assert caught.value.field == field, (raw, str(caught.value))
