"""API answers the UI decodes that `api.schemas` does not hold: experiments, event receipts and
the learned ranker's manifest.

They mirror `experiments.stats.ExperimentResult` and the `/experiments` and `/events` answers
field for field (a test keeps them equal), so the UI never imports scipy and statsmodels. The
ranker's shapes hold the fields of `GET /ranker` the UI shows (the manifest `ranker.train`
writes; a test decodes a real one).
"""

from __future__ import annotations

import msgspec


class ExperimentListed(msgspec.Struct, kw_only=True):
    """One row of `GET /experiments`: an experiment's latest run, without its results."""

    name: str
    design: str
    status: str  # running | stopped
    started_at: float
    stopped_at: float | None


class ArmResult(msgspec.Struct, kw_only=True):
    """One arm's exact counts, CTR with its 95 % interval, and the lift over the first arm."""

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
    """`GET /experiments/{name}`; wins, losses, ties and p_value only for interleaving."""

    name: str
    design: str
    status: str
    started_at: float
    stopped_at: float | None
    arms: list[ArmResult]
    srm_p_value: float | None
    wins: int | None = None
    losses: int | None = None
    ties: int | None = None
    p_value: float | None = None


class Rejected(msgspec.Struct, kw_only=True):
    """An event of a batch that the API did not take, and why."""

    index: int
    reason: str


class EventsTaken(msgspec.Struct, kw_only=True):
    """`POST /events`: how many events were kept, already known, or refused."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


class RankerWindow(msgspec.Struct, kw_only=True):
    """The logged traffic a ranker learned from: when it was served and how it was split."""

    start: float = msgspec.field(name="from")  # the first list's served_at (Unix seconds)
    end: float = msgspec.field(name="to")
    lists: int
    clicked_lists: int
    train_lists: int
    validation_lists: int
    test_lists: int


class RankerMetrics(msgspec.Struct, kw_only=True):
    """NDCG@5 of the learned order and of the served order on the held-out tail of lists."""

    ndcg5_learned: float
    ndcg5_served: float
    test_lists_evaluated: int


class RankerInfo(msgspec.Struct, kw_only=True):
    """`GET /ranker`: the served model's version, features, bias handling, window and metrics."""

    version: str
    trained_at: str
    features: list[str]
    position_bias: str  # how clicks' position bias was handled: feature | lightgbm | none
    trees: int
    window: RankerWindow
    metrics: RankerMetrics
