"""`POST /recommend`: products like several examples and unlike others."""

from __future__ import annotations

from collections.abc import Awaitable

from litestar import Controller, Response, post
from litestar.di import NamedDependency

from api.views import CACHE_HEADERS, answer_spec, served_response
from recommend.pipeline import Params
from service.examples import checked_examples
from service.learning import ListRequest, Scope, ScorerFor, ShopperLoop
from service.recommender import Recommender, Served, check_params, pipeline_params
from service.schemas import ExamplesRequest, ExamplesServed


class ExamplesController(Controller):
    """Recommendations from positive and negative example products."""

    path = "/recommend"

    @post(
        responses=answer_spec(ExamplesServed, 400, 404, 409, 503),
        response_headers=CACHE_HEADERS,
        status_code=200,
    )
    async def recommend_from_examples(
        self,
        recommender: NamedDependency[Recommender],
        loop: NamedDependency[ShopperLoop],
        data: ExamplesRequest,
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
            filters=data.filters,
            ranker=data.ranker,
        )

        def list_of(
            model: str, params: Params, scorer: ScorerFor, scope: Scope
        ) -> Awaitable[Served]:
            return recommender.like_these(model, examples, params, scorer, scope)

        request = ListRequest(
            "examples",
            examples.label,
            data.user_id,
            data.model,
            params,
            loop.compute(data.user_id, list_of),
            check_params,
            recommender.diversity,
            anchor_id=str((examples.positive or examples.negative)[0]),
        )
        return served_response(await loop.serve(request))
