"""Team-draft interleaving (Radlinski, Kurup & Joachims, 2008): two rankings merged into one
list, each product remembered with the arm (team) that picked it."""

from __future__ import annotations

import random
from collections.abc import Sequence


def team_draft(
    first: Sequence[str], second: Sequence[str], k: int, rng: random.Random
) -> list[tuple[str, int]]:
    """Up to `k` products, each with its team (0: `first`, 1: `second`).

    In each round the team with fewer picks (a coin toss on a tie) adds its highest-ranked
    product not shown yet; a team with nothing left to add lets the other pick.
    """
    rankings = (first, second)
    merged: list[tuple[str, int]] = []
    shown: set[str] = set()
    picks = [0, 0]
    cursor = [0, 0]

    def next_of(team: int) -> str | None:
        ranking = rankings[team]
        while cursor[team] < len(ranking) and ranking[cursor[team]] in shown:
            cursor[team] += 1
        return ranking[cursor[team]] if cursor[team] < len(ranking) else None

    while len(merged) < k:
        options = [next_of(0), next_of(1)]
        if options[0] is None and options[1] is None:
            break
        team = rng.randrange(2) if picks[0] == picks[1] else int(picks[1] < picks[0])
        if options[team] is None:
            team = 1 - team
        product = options[team]
        assert product is not None
        merged.append((product, team))
        shown.add(product)
        picks[team] += 1
    return merged
