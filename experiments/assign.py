"""Deterministic, sticky assignment: a hash of (experiment, shopper) picks the arm."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from experiments.design import Arm


def unit_hash(experiment: str, user_id: str) -> float:
    """A number in [0, 1) fixed by the experiment's name and the shopper, uniform over ids."""
    digest = hashlib.sha256(f"{experiment}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: str, arms: Sequence[Arm], user_id: str) -> Arm:
    """The arm this shopper sees in this experiment, always the same one."""
    point = unit_hash(experiment, user_id) * sum(arm.weight for arm in arms)
    for arm in arms:
        point -= arm.weight
        if point < 0:
            return arm
    return arms[-1]  # float rounding at the very top of the range
