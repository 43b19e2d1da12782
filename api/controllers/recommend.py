"""`GET /recommend`: products similar to a catalogue product; `POST /recommend`: products like
several examples and unlike others."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.views import CACHE_HEADERS, UserId, answer_spec, served_response, unavailable
from core.ids import parse_product_id
from events.store import EventStoreUnavailable
from recommend.pipeline import Params, RankerName
from service.examples import ExampleIds, checked_examples
from service.for_you import LOOKBACK_S, session_of
from service.learning import ListRequest, Scope, ScorerFor, ShopperLoop, with_fields
from service.recommender import Recommender, Served, check_params, pipeline_params
from service.schemas import (
    USER_ID_PATTERN,
    CategoryMode,
    ExamplesRequest,
    ExamplesServed,
    ForYouServed,
    RecommendServed,
    UsedEvent,
)


def filter_parameters(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The query parameters that are not the route's own: the catalogue schema's filters
    (documented in the OpenAPI schema by `api.openapi.document_filters`)."""
    declared = request.route_handler.parsed_fn_signature.parameters
    return {k: v for k, v in request.query_params.items() if k not in declared}


class RecommendController(Controller):
    """Recommendations for a product already in the catalogue, or for several examples."""

    path = "/recommend"

    @get(
        responses=answer_spec(RecommendServed, 400, 404, 409, 503),
        response_headers=CACHE_HEADERS,
    )
    async def get_recommendations(
        self,
        recommender: NamedDependency[Recommender],
        loop: NamedDependency[ShopperLoop],
        request: Request[Any, Any, Any],
        product_id: Annotated[str, Parameter(description="catalogue id of the query product")],
        model: Annotated[
            str, Parameter(description="resnet | efficientnet | clip | hybrid")
        ] = "clip",
        top_k: Annotated[int, Parameter(ge=1, le=100)] = 5,
        lambda_diversity: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.7,
        candidates: Annotated[int, Parameter(ge=1, le=1000)] = 50,
        category_mode: Annotated[CategoryMode, Parameter(description="soft | hard | off")] = "soft",
        w_sim: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.6,
        w_cat: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.4,
        user_id: UserId = None,
        ranker: Annotated[
            RankerName,
            Parameter(description="static: the category re-rank | learned: the trained model"),
        ] = "static",
    ) -> Response[bytes]:
        """Products similar to one catalogue product: ANN recall → MMR → category re-rank (or,
        with `ranker=learned`, the trained model scores every recalled candidate). Filters:
        every facet of the catalogue schema (`GET /schema`) by exact match, and inclusive
        `<numeric>_min` / `<numeric>_max` ranges.

        Answers are cached (header `X-Cache`) until the catalogue or the collection changes.
        Every list gets a `ranking_id` (for `POST /events`) and is logged; with a `user_id`, a
        running experiment assigns the shopper to an arm whose parameters win.
        """
        params = pipeline_params(
            top_k,
            lambda_diversity,
            candidates,
            category_mode=category_mode,
            w_sim=w_sim,
            w_cat=w_cat,
            filters=recommender.filters.checked(filter_parameters(request)),
            ranker=ranker,
        )

        def list_of(
            model: str, params: Params, scorer: ScorerFor, scope: Scope
        ) -> Awaitable[Served]:
            return recommender.similar(model, product_id, params, scorer, scope)

        listing = ListRequest(
            "recommend",
            product_id,
            user_id,
            model,
            params,
            loop.compute(user_id, list_of),
            check_params,
            recommender.diversity,
        )
        return served_response(await loop.serve(listing))

    @post(
        responses=answer_spec(ExamplesServed, 400, 404, 409, 503),
        response_headers=CACHE_HEADERS,
        status_code=200,
    )
    async def recommend_from_examples(
        self,
        recommender: NamedDependency[Recommender],
        loop: NamedDependency[ShopperLoop],
        data: JSONBody[ExamplesRequest],
    ) -> Response[bytes]:
        """Products like the `positive` examples and unlike the `negative` ones, by Qdrant's
        recommendation strategies (`average_vector`, `best_score`, `sum_scores`); then MMR and
        the category re-rank against the positives' articleTypes, or the learned ranker.

        The examples are never recommended back; each result names the positive it is closest
        to and its cosine to the nearest negative. Cached, logged (`ranking_id`) and served
        under experiments like `GET /recommend`.
        """
        examples = checked_examples(data)
        params = pipeline_params(
            data.top_k,
            data.lambda_diversity,
            data.candidates,
            category_mode=data.category_mode,
            w_sim=data.w_sim,
            w_cat=data.w_cat,
            filters=recommender.filters.checked(data.filters),
            ranker=data.ranker,
        )
        served = await _like_these(recommender, loop, examples, data.model, params, data.user_id)
        return served_response(served)

    @get(
        "/for-you",
        responses=answer_spec(ForYouServed, 400, 404, 409, 503),
        response_headers=CACHE_HEADERS,
    )
    async def for_you(
        self,
        recommender: NamedDependency[Recommender],
        loop: NamedDependency[ShopperLoop],
        user_id: Annotated[str, Parameter(description="the shopper", pattern=USER_ID_PATTERN)],
        top_k: Annotated[int, Parameter(ge=1, le=100)] = 5,
        model: Annotated[
            str, Parameter(description="resnet | efficientnet | clip | hybrid")
        ] = "clip",
    ) -> Response[bytes]:
        """A list for one shopper: their newest clicks, add-to-carts and purchases (30 days, the
        10 newest distinct products, each weighing 0.7 of the next newer) are the positives of
        an `average_vector` list; products they bought are left out. `events` says which events
        were used. A shopper without such history is a 404 (fall back to your default list)."""
        try:
            history = await loop.in_thread(loop.store.events, time.time() - LOOKBACK_S, user_id)
        except EventStoreUnavailable as exc:
            raise unavailable(exc, "retry shortly") from exc
        products = [i for e in history if (i := parse_product_id(e.product_id)) is not None]
        held = await loop.in_thread(recommender.held, model, products)
        session = session_of(user_id, history, held)
        params = pipeline_params(top_k, 0.7, max(50, top_k))
        served = await _like_these(recommender, loop, session.examples, model, params, user_id)
        used = [
            UsedEvent(
                type=e.type,
                product_id=e.product_id,
                ranking_id=e.ranking_id,
                at=datetime.fromtimestamp(e.at, UTC).isoformat(),
                weight=round(weight, 6),
            )
            for e, weight in session.used
        ]
        body = with_fields(served.body, {"user_id": user_id, "events": used})
        return served_response(replace(served, body=body))


async def _like_these(
    recommender: Recommender,
    loop: ShopperLoop,
    examples: ExampleIds,
    model: str,
    params: Params,
    user_id: str | None,
) -> Served:
    """A list from examples through the shopper loop (experiments, ranking_id, the log)."""

    def list_of(model: str, params: Params, scorer: ScorerFor, scope: Scope) -> Awaitable[Served]:
        return recommender.like_these(model, examples, params, scorer, scope)

    request = ListRequest(
        "examples",
        examples.label,
        user_id,
        model,
        params,
        loop.compute(user_id, list_of),
        check_params,
        recommender.diversity,
        anchor_id=str((examples.positive or examples.negative)[0]),
    )
    return await loop.serve(request)
