"""`/experiments/{name}`: A/B tests and interleaving on /recommend, and their results."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.auth import require_write_key
from api.errors import ApiError
from api.views import errors, json_value, unavailable
from core.registry import models_answering
from events.store import EventStoreUnavailable, ExperimentConflict
from experiments.design import InvalidExperiment, parse_spec, valid_name
from experiments.stats import ExperimentResult
from service.learning import ShopperLoop

RECOMMEND_MODELS = models_answering("product")
Name = Annotated[str, Parameter(description="1–64 characters of A-Z a-z 0-9 . _ -")]


class ExperimentSummary(msgspec.Struct, kw_only=True):
    """An experiment's latest run, without its results."""

    name: str
    design: str
    status: str
    started_at: float
    stopped_at: float | None


def _checked(name: str) -> str:
    if not valid_name(name):
        raise ApiError(
            400, f"experiment names are 1–64 of A-Z a-z 0-9 . _ -, not {name[:70]!r}", "name"
        )
    return name


class ExperimentsController(Controller):
    """Experiments live in the event store: every API process assigns shoppers alike."""

    path = "/experiments"

    @put(
        "/{name:str}",
        guards=[require_write_key],
        status_code=200,
        responses=errors(400, 401, 403, 409, 503),
    )
    async def put_experiment(
        self, loop: NamedDependency[ShopperLoop], request: Request[Any, Any, Any], name: Name
    ) -> ExperimentResult:
        """Start an experiment on /recommend: `{"design": "ab" | "interleave", "arms": [{"name",
        "weight", "overrides": {"model", "lambda_diversity", "candidates", "category_mode",
        "w_sim", "w_cat"}}]}`. Shoppers (`user_id`) are assigned by a hash of (experiment,
        user_id); requests without a user_id are not assigned. Putting a running experiment's
        name again restarts it with fresh results; another running experiment is a 409.
        """
        _checked(name)
        try:
            spec = parse_spec(json_value(await request.body(), "body"), RECOMMEND_MODELS)
        except InvalidExperiment as exc:
            raise ApiError(400, str(exc), exc.field) from exc
        try:
            await loop.in_thread(loop.experiments.start, name, spec)
            result = await loop.in_thread(loop.experiments.results, name)
        except ExperimentConflict as exc:
            raise ApiError(409, str(exc), "name") from exc
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "the experiment was not started") from exc
        assert result is not None
        return result

    @get("/{name:str}", responses=errors(400, 404, 503))
    async def get_experiment(
        self, loop: NamedDependency[ShopperLoop], name: Name
    ) -> ExperimentResult:
        """Each arm's users, lists, clicks, add-to-carts and purchases (exact counts), CTR with
        its 95 % interval, the lift over the first arm with its interval and the two-sided
        pooled z-test's p-value, and the sample-ratio check; interleaving adds wins, losses,
        ties and the sign test's p-value."""
        try:
            result = await loop.in_thread(loop.experiments.results, _checked(name))
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "retry shortly") from exc
        if result is None:
            raise ApiError(404, f"no experiment named {name!r}; see GET /experiments")
        return result

    @get(responses=errors(503))
    async def list_experiments(self, loop: NamedDependency[ShopperLoop]) -> list[ExperimentSummary]:
        """Every experiment's latest run, newest first."""
        try:
            runs = await loop.in_thread(loop.store.experiments)
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "retry shortly") from exc
        return [
            ExperimentSummary(
                name=run.name,
                design=run.design,
                status="running" if run.active else "stopped",
                started_at=run.started_at,
                stopped_at=run.stopped_at,
            )
            for run in runs
        ]

    @delete("/{name:str}", guards=[require_write_key], responses=errors(400, 401, 403, 404, 503))
    async def stop_experiment(self, loop: NamedDependency[ShopperLoop], name: Name) -> None:
        """Stop the experiment: shoppers are no longer assigned; its results stay readable
        until a new experiment takes its name."""
        try:
            stopped = await loop.in_thread(loop.experiments.stop, _checked(name))
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "the experiment was not stopped") from exc
        if not stopped:
            raise ApiError(404, f"no experiment named {name!r} is running")
