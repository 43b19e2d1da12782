"""The learning loop of a serving process: every served list gets a `ranking_id` and is logged
with the ranker's features, shoppers are assigned to the running experiment's arms (A/B, or both
arms interleaved), a share of lists explores, and the learned ranker is served.

How a list is computed stays with the recommender (`Compute`): the loop only chooses the
parameters, merges interleaved lists and logs what was served.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import anyio
import msgspec
import numpy as np
import numpy.typing as npt

from core.settings import Settings
from events import log as list_log
from events.factory import open_event_store
from events.log import ListLog
from events.model import Answer as Logged
from events.store import EventStore
from experiments.design import Arm
from experiments.interleave import team_draft
from experiments.running import Experiments, Running
from ranker.features import FEATURES, FeatureState, PayloadOf, recalled_of
from ranker.model import LearnedRanker, Rankers
from ranker.scoring import LearnedScorer
from recommend.pipeline import Params
from service.errors import RequestError
from service.recommender import Answer, CacheResult, Route, Served
from service.schemas import ExamplesResponse, RecommendResponse, Timings

# (model, parameters) → the list the recommender serves with them (cached or computed).
Compute = Callable[[str, Params], Awaitable[Served]]
# (model, parameters, the learned ranker for a query payload or None, what else the answer
# depends on or None for uncached) → the list: how a route asks the recommender for one.
ScorerFor = Callable[[Any], LearnedScorer] | None
Scope = tuple[object, ...] | None
ListOf = Callable[[str, Params, ScorerFor, Scope], Awaitable[Served]]
# (model, product ids) → the intra-list diversity of those products in that model's space.
Diversity = Callable[[str, list[str]], float]
T = TypeVar("T")
_answer = msgspec.json.Decoder(Logged)
# The routes whose lists experiments, exploration and the learned ranker apply to.
RECOMMEND_ROUTES = ("recommend", "examples")
EXPLORED_SLOTS = 2  # how many of the last shown products an explored list swaps


def with_list_fields(
    body: bytes, ranking_id: str, experiment: str | None, arm: str | None
) -> bytes:
    """An answer body (a JSON object) with the served list's fields first, without decoding it
    (a cached body is shared by every list served from it)."""
    return with_fields(body, {"ranking_id": ranking_id, "experiment": experiment, "arm": arm})


def with_fields(body: bytes, fields: Mapping[str, object]) -> bytes:
    """A JSON object body with `fields` spliced in first, without decoding it."""
    head = msgspec.json.encode(fields)
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

    def __init__(
        self,
        store: EventStore,
        payload_of: PayloadOf,
        rankers: Rankers,
        logging: bool = True,
        explore: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.payload_of = payload_of
        self.log = ListLog(store)
        self.experiments = Experiments(store)
        self.features = FeatureState(store, payload_of)
        self.rankers = rankers
        self.logging = logging
        self.explore = explore
        self._rng = random.Random(seed)

    @classmethod
    def open(cls, settings: Settings, payload_of: PayloadOf) -> ShopperLoop:
        """The loop over the event store the settings name (LOOKALIKE_EVENTS_URL) and the
        rankers trained into `data/rankers/`."""
        if not 0.0 <= settings.explore <= 0.5:
            raise ValueError(f"LOOKALIKE_EXPLORE must be within 0 and 0.5, not {settings.explore}")
        return cls(
            open_event_store(settings.events_url, settings.data_dir),
            payload_of,
            Rankers(settings.rankers_dir),
            settings.list_log,
            settings.explore,
        )

    def start(self) -> None:
        """Write the list log, follow experiments, events and new rankers in the background."""
        self.log.start()
        self.experiments.watch()
        self.features.watch()
        self.rankers.watch()

    def close(self) -> None:
        """Write what is left of the log and release the store."""
        self.experiments.close()
        self.features.close()
        self.rankers.close()
        self.log.close()
        self.store.close()

    def learned(self) -> LearnedRanker:
        """The ranker to serve, or a 409 saying how to train one."""
        ranker = self.rankers.current
        if ranker is None:
            raise RequestError(
                409,
                "no trained ranker yet: log traffic (e.g. `lookalike simulate`), then run "
                "`lookalike ranker train`; ranker=static serves meanwhile",
                "ranker",
            )
        return ranker

    def scorer(self, query: Any, model: str, user_id: str | None) -> LearnedScorer:
        """The learned ranker bound to one request."""
        return LearnedScorer(self.learned(), self.features, query, model, user_id)

    def answer_scope(self, params: Params, user_id: str | None) -> tuple[object, ...] | None:
        """What a learned answer depends on besides the request (the model version and the
        popularity snapshot); None when it depends on the shopper's own history (not cached).
        Shoppers without history share cached answers."""
        if params.ranker != "learned":
            return ()
        if self.features.profiles.clicks(user_id):
            return None
        return (self.learned().version, self.features.epoch)

    def compute(self, user_id: str | None, list_of: ListOf) -> Compute:
        """How a route computes its list with the static or the learned ranker."""

        async def compute(model: str, params: Params) -> Served:
            if params.ranker == "static":
                return await list_of(model, params, None, ())
            scorers: list[LearnedScorer] = []

            def scorer(query: Any) -> LearnedScorer:
                scorers.append(self.scorer(query, model, user_id))
                return scorers[-1]

            served = await list_of(model, params, scorer, self.answer_scope(params, user_id))
            if scorers and scorers[-1].chosen is not None:  # computed, not from the cache
                return replace(served, features=scorers[-1].chosen)
            return served

        return compute

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking event-store call in a worker thread."""
        return await anyio.to_thread.run_sync(function, *args)

    async def serve(self, request: ListRequest) -> Served:
        """Compute a list with the parameters of the shopper's arm (if an experiment runs on
        this route and the request names a shopper), give it a ranking_id and log it."""
        user_id = request.user_id
        running = (
            self.experiments.running() if user_id and request.route in RECOMMEND_ROUTES else None
        )
        if running is None or user_id is None:
            if self._explores(request):
                return await self._explored(request)
            served = await request.compute(request.model, request.params)
            return self._served(request, request.model, served.body, served.cache, served.features)
        if running.run.design == "interleave":
            return await self._interleaved(request, running)
        arm = running.arm_of(user_id)
        model, params = with_overrides(request.model, request.params, arm, request.check)
        served = await request.compute(model, params)
        return self._served(
            request, model, served.body, served.cache, served.features, running, arm.name
        )

    def _explores(self, request: ListRequest) -> bool:
        """Whether this static /recommend list is one of the exploration share."""
        if (
            request.route not in RECOMMEND_ROUTES
            or request.params.ranker != "static"
            or not self.explore
        ):
            return False
        return self._rng.random() < self.explore

    async def _interleaved(self, request: ListRequest, running: Running) -> Served:
        """Both arms' lists merged by team draft; each product remembers the arm that picked it."""
        ranking_id = uuid.uuid4().hex
        settings = [
            with_overrides(request.model, request.params, arm, request.check)
            for arm in running.arms
        ]
        answers = [_listed((await request.compute(m, p)).answer()) for m, p in settings]
        merged = team_draft(
            [r.product_id for r in answers[0].results],
            [r.product_id for r in answers[1].results],
            request.params.top_k,
            random.Random(ranking_id),
        )
        by_team = [{r.product_id: r for r in answer.results} for answer in answers]
        model = "+".join(sorted({m for m, _ in settings}))
        answer = msgspec.structs.replace(
            answers[0],
            model=model,
            results=[by_team[team][product] for product, team in merged],
            intra_list_diversity=round(
                request.diversity(settings[0][0], [p for p, _ in merged]), 6
            ),
            timings=_summed([a.timings for a in answers]),
        )
        teams = [running.arms[team].name for _, team in merged]
        return self._served(
            request,
            model,
            msgspec.json.encode(answer),
            "off",
            running=running,
            teams=teams,
            ranking_id=ranking_id,
        )

    async def _explored(self, request: ListRequest) -> Served:
        """An exploration list: the last `EXPLORED_SLOTS` shown products swapped for products
        drawn uniformly from further down the same ranking (each logged with its propensity:
        how likely the logging policy was to show it there)."""
        params = request.params
        wider = replace(params, top_k=min(params.candidates, params.top_k * 3))
        answer = _listed((await request.compute(request.model, wider)).answer())
        shown, rest = answer.results[: params.top_k], answer.results[params.top_k :]
        slots = min(EXPLORED_SLOTS, len(shown), len(rest))
        kept = len(shown) - slots
        pool = rest + shown[kept:]  # what may fill the explored slots
        picked = self._rng.sample(pool, slots) if slots else []
        propensities = [1.0] * kept + [self.explore * slots / len(pool)] * slots
        explored = msgspec.structs.replace(
            answer, top_k=params.top_k, results=shown[:kept] + picked
        )
        return self._served(
            request,
            request.model,
            msgspec.json.encode(explored),
            "off",
            propensities=propensities,
        )

    def _served(
        self,
        request: ListRequest,
        model: str,
        body: bytes,
        cached: CacheResult,
        features: npt.NDArray[np.float64] | None = None,
        running: Running | None = None,
        arm: str | None = None,
        teams: list[str] | None = None,
        ranking_id: str | None = None,
        propensities: list[float] | None = None,
    ) -> Served:
        """The answer with its list fields, logged with the ranker's features of every shown
        product: as the learned ranker scored them (`features`), else as they are now (training
        reads these, never recomputes them)."""
        ranking_id = ranking_id or uuid.uuid4().hex
        experiment = running.run.name if running else None
        body = with_list_fields(body, ranking_id, experiment, arm)
        if self.logging:
            if features is None:
                query = None if request.anchor is None else self.payload_of(request.anchor)
                results = recalled_of(_answer.decode(body).results, self.payload_of)
                features = self.features.rows(query, results, model, request.user_id)
            self.log.add(
                list_log.Served(
                    ranking_id=ranking_id,
                    served_at=time.time(),
                    user_id=request.user_id,
                    route=request.route,
                    query=request.query,
                    model=model,
                    body=body,
                    experiment=experiment,
                    arm=arm,
                    run_id=running.run.run_id if running else None,
                    teams=teams,
                    features=features,
                    feature_names=FEATURES,
                    propensities=propensities,
                )
            )
        return Served(request.route, model, request.query, request.params, body, cached)


@dataclass(frozen=True)
class ListRequest:
    """A request for a list: where it came from, for whom, and how to compute it."""

    route: Route
    query: str  # the product id, or the text / photo label
    user_id: str | None
    model: str
    params: Params
    compute: Compute
    check: Callable[[Params], None]
    diversity: Diversity = lambda model, ids: 0.0
    # The product the ranker's features compare candidates with (GET /recommend: the query).
    anchor_id: str | None = None

    @property
    def anchor(self) -> str | None:
        """The product the ranker's features compare candidates with, if any."""
        return self.query if self.route == "recommend" else self.anchor_id


def _listed(answer: Answer) -> RecommendResponse | ExamplesResponse:
    """A list of a recommend route (experiments and exploration apply to no other)."""
    assert isinstance(answer, RecommendResponse | ExamplesResponse)
    return answer


def _summed(timings: list[Timings]) -> Timings:
    """Time spent computing several lists."""
    return Timings(
        **{f: round(sum(getattr(t, f) for t in timings), 3) for f in Timings.__struct_fields__}
    )
