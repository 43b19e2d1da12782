"""`GET /recommend`: products similar to a catalogue product."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.views import CACHE_HEADERS, UserId, answer_spec, served_response
from recommend.pipeline import Params, RankerName
from service.learning import ListRequest, ShopperLoop
from service.recommender import Recommender, Served, check_params, pipeline_params
from service.schemas import CategoryMode, RecommendServed


def filter_parameters(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The query parameters that are not the route's own: the catalogue schema's filters
    (documented in the OpenAPI schema by `api.openapi.document_filters`)."""
    declared = request.route_handler.parsed_fn_signature.parameters
    return {k: v for k, v in request.query_params.items() if k not in declared}


class RecommendController(Controller):
    """Recommendations for a product already in the catalogue."""

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

        async def compute(model: str, params: Params) -> Served:
            if params.ranker == "static":
                return await recommender.similar(model, product_id, params)
            scorer = partial(loop.scorer, model=model, user_id=user_id)
            depends_on = loop.answer_scope(params, user_id)
            return await recommender.similar(model, product_id, params, scorer, depends_on)

        listing = ListRequest(
            "recommend",
            product_id,
            user_id,
            model,
            params,
            compute,
            check_params,
            recommender.diversity,
        )
        return served_response(await loop.serve(listing))
