"""`GET /recommend`: products similar to a catalogue product."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.cache import cache_key
from api.errors import ApiError
from api.loop import ListRequest, ShopperLoop
from api.schemas import CategoryMode, RecommendResponse, RecommendServed
from api.services import Services
from api.views import (
    CACHE_HEADERS,
    UserId,
    answer_fields,
    answer_spec,
    cached_body,
    check_params,
    list_diversity,
    model_store,
    pipeline_params,
    product_or_404,
)
from embed.registry import models_answering
from lookalike.ids import parse_product_id
from recommend.pipeline import Params, RankerName, Scorer, recommend
from store.protocol import Payload

RECOMMEND_MODELS = models_answering("product")
Filter = Annotated[str | None, Parameter(description="exact payload match", max_length=100)]


class RecommendController(Controller):
    """Recommendations for a product already in the catalogue."""

    path = "/recommend"

    @get(
        responses=answer_spec(RecommendServed, 400, 404, 503, status_code=200),
        response_headers=CACHE_HEADERS,
    )
    async def get_recommendations(
        self,
        services: NamedDependency[Services],
        loop: NamedDependency[ShopperLoop],
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
        gender: Filter = None,
        masterCategory: Filter = None,
        subCategory: Filter = None,
        articleType: Filter = None,
        baseColour: Filter = None,
        season: Filter = None,
        usage: Filter = None,
        user_id: UserId = None,
        ranker: Annotated[
            RankerName,
            Parameter(description="static: today's re-rank | learned: the trained model"),
        ] = "static",
    ) -> Response[bytes]:
        """Products similar to one catalogue product: ANN recall → MMR → category re-rank.

        Answers are cached (header `X-Cache`) until the catalogue or the collection changes.
        Every list gets a `ranking_id` (for `POST /events`) and is logged; with a `user_id`, a
        running experiment assigns the shopper to an arm whose parameters win.
        """
        filters = {
            k: v
            for k, v in {
                "gender": gender,
                "masterCategory": masterCategory,
                "subCategory": subCategory,
                "articleType": articleType,
                "baseColour": baseColour,
                "season": season,
                "usage": usage,
            }.items()
            if v
        }
        params = pipeline_params(
            top_k,
            lambda_diversity,
            candidates,
            category_mode=category_mode,
            w_sim=w_sim,
            w_cat=w_cat,
            filters=filters,
            ranker=ranker,
        )
        qid = parse_product_id(product_id)

        async def compute(model: str, params: Params) -> tuple[bytes, str]:
            learned = loop.answer_scope(params, user_id)
            scope = services.answer_scope(model)
            key = None
            if qid is not None and learned is not None:
                key = cache_key("recommend", model, qid, params, scope, learned)
            scorer = None
            if params.ranker == "learned":
                scorer = partial(loop.scorer, model=model, user_id=user_id)
            return await cached_body(
                services,
                "recommend",
                key,
                lambda: services.store_work(
                    _recommend, services, model, product_id, params, scorer
                ),
            )

        return await loop.serve(
            ListRequest(
                "recommend",
                product_id,
                user_id,
                model,
                params,
                compute,
                check_params,
                lambda model, ids: list_diversity(services, model, ids),
            )
        )


def _recommend(
    services: Services,
    model: str,
    product_id: str,
    params: Params,
    scorer_for: Callable[[Payload], Scorer] | None = None,
) -> RecommendResponse:
    """The recommendation pipeline for a catalogue product (blocking: `Services.store_work`
    runs it)."""
    store = model_store(services, model, RECOMMEND_MODELS)
    query = product_or_404(services, product_id)
    qid = int(query.product_id)
    vector = store.vectors([qid]).get(qid)
    if vector is None:
        why = "it has no usable image" if not query.has_image else "it is not in the collection"
        raise ApiError(
            404,
            f"product {qid} has no {model} vector: {why}; find products like it by its "
            "text with POST /search (model clip_text)",
        )
    outcome = recommend(
        store,
        vector,
        params,
        services.categories,
        query.articleType,
        frozenset({qid}),
        services.payload,
        None if scorer_for is None else scorer_for(services.payload(qid)),
    )
    return RecommendResponse(
        query_product_id=query.product_id,
        query=query,
        **answer_fields(services, model, params, outcome, "recommend"),
    )
