"""The learning loop inside the API: every served list gets a `ranking_id` and is logged, shoppers
are assigned to the running experiment's arms (A/B, or both arms interleaved), events are taken.

How a list is computed stays with the caller (`Compute`): the loop only chooses the parameters,
merges interleaved lists and logs what was served.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import anyio
import msgspec
from litestar import MediaType, Response

from api import cache
from api.errors import RETRY_AFTER_S, ApiError
from api.schemas import RecommendResponse, Timings
from events.log import ListLog, Served
from events.store import EventStore, open_event_store
from experiments.design import Arm
from experiments.interleave import team_draft
from experiments.running import Experiments, Running
from lookalike.settings import Settings
from recommend.pipeline import Params

# (model, parameters) → the answer body and how the cache answered (hit | miss | off).
Compute = Callable[[str, Params], Awaitable[tuple[bytes, str]]]
# (model, product ids) → the intra-list diversity of those products in that model's space.
Diversity = Callable[[str, list[str]], float]
T = TypeVar("T")
_recommendation = msgspec.json.Decoder(RecommendResponse)


def with_list_fields(
    body: bytes, ranking_id: str, experiment: str | None, arm: str | None
) -> bytes:
    """An answer body (a JSON object) with the served list's fields first, without decoding it
    (a cached body is shared by every list served from it)."""
    head = msgspec.json.encode({"ranking_id": ranking_id, "experiment": experiment, "arm": arm})
    return head[:-1] + b"," + body[1:]


def with_overrides(
    model: str, params: Params, arm: Arm, check: Callable[[Params], None]
) -> tuple[str, Params]:
    """The model and parameters an arm serves with: its overrides win over the request's."""
    values: dict[str, Any] = arm.overrides.values()
    model = values.pop("model", model)
    params = replace(params, **values)
    check(params)
    return model, params


class ShopperLoop:
    """The event store, the list log and the experiments of one API process."""

    def __init__(self, store: EventStore, logging: bool = True) -> None:
        self.store = store
        self.log = ListLog(store)
        self.experiments = Experiments(store)
        self.logging = logging

    @classmethod
    def open(cls, settings: Settings) -> ShopperLoop:
        """The loop over the event store the settings name (LOOKALIKE_EVENTS_URL)."""
        return cls(open_event_store(settings.events_url, settings.data_dir), settings.list_log)

    def start(self) -> None:
        """Write the list log and follow experiments in background threads."""
        self.log.start()
        self.experiments.watch()

    def close(self) -> None:
        """Write what is left of the log and release the store."""
        self.experiments.close()
        self.log.close()
        self.store.close()

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking event-store call in a worker thread."""
        return await anyio.to_thread.run_sync(function, *args)

    async def serve(
        self,
        route: str,
        query: str,
        user_id: str | None,
        model: str,
        params: Params,
        compute: Compute,
        check: Callable[[Params], None],
        diversity: Diversity | None = None,
    ) -> Response[bytes]:
        """Compute a list with the parameters of the shopper's arm (if an experiment runs on
        this route and the request names a shopper), give it a ranking_id and log it."""
        running = self.experiments.running() if user_id and route == "recommend" else None
        if running is None or user_id is None:
            body, cached = await compute(model, params)
            return self._served(route, query, user_id, model, body, cached)
        if running.run.design == "interleave":
            assert diversity is not None
            return await self._interleaved(
                running, query, user_id, model, params, compute, check, diversity
            )
        arm = running.arm_of(user_id)
        model, params = with_overrides(model, params, arm, check)
        body, cached = await compute(model, params)
        return self._served(route, query, user_id, model, body, cached, running, arm.name)

    async def _interleaved(
        self,
        running: Running,
        query: str,
        user_id: str,
        model: str,
        params: Params,
        compute: Compute,
        check: Callable[[Params], None],
        diversity: Diversity,
    ) -> Response[bytes]:
        """Both arms' lists merged by team draft; each product remembers the arm that picked it."""
        ranking_id = uuid.uuid4().hex
        settings = [with_overrides(model, params, arm, check) for arm in running.arms]
        answers = [_recommendation.decode((await compute(m, p))[0]) for m, p in settings]
        merged = team_draft(
            [r.product_id for r in answers[0].results],
            [r.product_id for r in answers[1].results],
            params.top_k,
            random.Random(ranking_id),
        )
        by_team = [{r.product_id: r for r in answer.results} for answer in answers]
        models = sorted({m for m, _ in settings})
        first = answers[0]
        answer = msgspec.structs.replace(
            first,
            model="+".join(models),
            results=[by_team[team][product] for product, team in merged],
            intra_list_diversity=round(diversity(settings[0][0], [p for p, _ in merged]), 6),
            timings=Timings(
                **{
                    f: round(sum(getattr(a.timings, f) for a in answers), 3)
                    for f in Timings.__struct_fields__
                }
            ),
        )
        teams = [running.arms[team].name for _, team in merged]
        return self._served(
            "recommend",
            query,
            user_id,
            answer.model,
            msgspec.json.encode(answer),
            "off",
            running,
            None,
            teams,
            ranking_id,
        )

    def _served(
        self,
        route: str,
        query: str,
        user_id: str | None,
        model: str,
        body: bytes,
        cached: str,
        running: Running | None = None,
        arm: str | None = None,
        teams: list[str] | None = None,
        ranking_id: str | None = None,
    ) -> Response[bytes]:
        ranking_id = ranking_id or uuid.uuid4().hex
        experiment = running.run.name if running else None
        body = with_list_fields(body, ranking_id, experiment, arm)
        if self.logging:
            self.log.add(
                Served(
                    ranking_id=ranking_id,
                    served_at=time.time(),
                    user_id=user_id,
                    route=route,
                    query=query,
                    model=model,
                    body=body,
                    experiment=experiment,
                    arm=arm,
                    run_id=running.run.run_id if running else None,
                    teams=teams,
                )
            )
        return Response(body, media_type=MediaType.JSON, headers={cache.HEADER: cached})


def unavailable(exc: Exception, what: str) -> ApiError:
    """503 for a call the event store could not take: what happened, and to retry."""
    return ApiError(503, f"{exc}; {what}", headers={"Retry-After": str(RETRY_AFTER_S)})
