"""The recommender: similar products of a catalogue product, of a text, of a photo.

Every served list passes through `Recommender.serve`: the response cache or the pipeline
(recall → MMR → category re-rank, `recommend.pipeline`) answers, and the `Served` it returns
carries what was asked (route, model, query, effective parameters) with the answer and where it
came from. That is the one place to log served lists from, cache hits included.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt
from PIL import Image

from catalogue.records import InvalidProduct, check_upload
from core.ids import parse_product_id
from core.registry import models_answering
from recommend.categories import CategorySimilarity
from recommend.examples import Closeness, Examples, NoDirection, closeness
from recommend.pipeline import (
    Outcome,
    Params,
    Ranked,
    RankerName,
    Scorer,
    intra_list_diversity,
    recommend,
)
from service import metrics
from service.cache import ResponseCache, cache_key
from service.collections import Collections
from service.encoding import Encoding
from service.errors import RequestError, not_found
from service.examples import ExampleIds
from service.execution import Execution
from service.filters import CatalogueFilters, Filters, described
from service.products import Products
from service.queries import TEXTS, expanded, expands
from service.schemas import (
    CategoryMode,
    Contribution,
    ExampleCloseness,
    ExamplesResponse,
    Parameters,
    Recommendation,
    RecommendResponse,
    SearchOptions,
    SearchRequest,
    SearchResponse,
    Timings,
)
from store.protocol import Payload, Vector, VectorStore

RECOMMEND_MODELS = models_answering("product")
IMAGE_MODELS = models_answering("photo")
TEXT_MODELS = models_answering("text")
T = TypeVar("T")
Route = Literal["recommend", "examples", "search"]
Answer = RecommendResponse | ExamplesResponse | SearchResponse
ANSWERS: dict[str, type[Answer]] = {
    "recommend": RecommendResponse,
    "examples": ExamplesResponse,
    "search": SearchResponse,
}
CacheResult = Literal["hit", "miss", "off"]


def pipeline_params(
    top_k: int,
    lambda_diversity: float,
    candidates: int,
    category_mode: CategoryMode = "soft",
    w_sim: float = 0.6,
    w_cat: float = 0.4,
    filters: Filters | None = None,
    ranker: RankerName = "static",
) -> Params:
    """Pipeline parameters, checked against each other (`filters`: `CatalogueFilters.checked`)."""
    params = Params(
        top_k=top_k,
        lambda_diversity=lambda_diversity,
        candidates=candidates,
        category_mode=category_mode,
        w_sim=w_sim,
        w_cat=w_cat,
        filters=filters.match if filters else {},
        ranges=filters.ranges if filters else {},
        ranker=ranker,
    )
    check_params(params)
    return params


def check_params(params: Params) -> None:
    """A 400 for parameters that contradict each other (also after an arm's overrides)."""
    if params.candidates < params.top_k:
        raise RequestError(
            400,
            f"candidates ({params.candidates}) must be ≥ top_k ({params.top_k})",
            "candidates",
        )


def search_params(options: SearchOptions, filters: CatalogueFilters) -> Params:
    """The pipeline parameters of a search (its filters checked): nothing to re-rank by
    category."""
    return pipeline_params(
        options.top_k,
        options.lambda_diversity,
        options.candidates,
        category_mode="off",
        filters=filters.checked(options.filters),
    )


@dataclass
class Served:
    """One served list: what was asked, the encoded answer and where it came from (`cache`:
    hit, miss or off). `answer()` gives the list itself, decoded from the cache on a hit."""

    route: Route
    model: str
    query: str  # the product id, the text, or "image:<file name>"
    params: Params
    body: bytes
    cache: CacheResult
    _answer: Answer | None = field(default=None, repr=False)
    # The learned ranker's features of the shown products as it scored them (None: not known).
    features: npt.NDArray[np.float64] | None = field(default=None, repr=False)

    def answer(self) -> Answer:
        """The ranked list with every score (query, model, parameters, results)."""
        if self._answer is None:
            self._answer = msgspec.json.decode(self.body, type=ANSWERS[self.route])
        return self._answer


@dataclass(frozen=True)
class SearchQuery:
    """A search request: what it shows as `query`, its options, what identifies its input (the
    text, or the photo's sha256) and its input (the text, or the photo's bytes)."""

    label: str
    options: SearchOptions
    identity: str
    text: str | None = None
    photo: bytes | None = None

    @classmethod
    def of_text(cls, request: SearchRequest) -> SearchQuery:
        """A text query (JSON body)."""
        return cls(request.text, request, request.text, text=request.text)

    @classmethod
    def of_photo(cls, data: bytes, filename: str, options: SearchOptions) -> SearchQuery:
        """An uploaded photo (multipart form)."""
        digest = hashlib.sha256(data).hexdigest()
        return cls(f"image:{filename}", options, digest, photo=data)


def decoded_upload(data: bytes) -> Image.Image:
    """An uploaded image decoded with ingest's checks (413/400/415 naming the reason)."""
    try:
        return check_upload(data)
    except InvalidProduct as exc:
        raise RequestError(exc.status, str(exc), exc.field) from exc


class Recommender:
    """Similar products for a catalogue product (`similar`) or a search (`search`), cached."""

    def __init__(
        self,
        collections: Collections,
        products: Products,
        categories: CategorySimilarity,
        encoding: Encoding,
        execution: Execution,
        cache: ResponseCache | None,
    ) -> None:
        self.collections = collections
        self.products = products
        self.categories = categories
        self.filters = CatalogueFilters(products.schema)
        self.cache = cache
        self._encoding = encoding
        self._execution = execution

    def scope(self, model: str) -> tuple[int, str]:
        """What a cached answer of `model` depends on besides the request: the catalogue
        version and the collection's build."""
        return self.products.version, self.collections.build_id(model)

    # Similar products ------------------------------------------------------------------------

    async def similar(
        self,
        model: str,
        product_id: str,
        params: Params,
        scorer_for: Callable[[Payload], Scorer] | None = None,
        depends_on: tuple[object, ...] | None = (),
    ) -> Served:
        """Products similar to a catalogue product (400 unknown model, 404 unknown product or
        no vector of it). `scorer_for`: the learned ranker for the query's payload
        (ranker=learned); `depends_on`: what else the answer depends on (None: not cached)."""
        qid = parse_product_id(product_id)  # not an id: the pipeline answers 404, uncached
        key = None
        if qid is not None and depends_on is not None:
            key = cache_key("recommend", model, qid, params, self.scope(model), *depends_on)
        return await self.serve(
            "recommend",
            model,
            product_id,
            params,
            key,
            lambda: self._pipeline(self._similar, model, product_id, params, scorer_for),
        )

    def diversity(self, model: str, product_ids: list[str]) -> float:
        """Intra-list diversity of catalogue products in a model's space (those it holds)."""
        store = self.collections.store(model)
        ids = [i for p in product_ids if (i := parse_product_id(p)) is not None]
        found = store.vectors(ids) if store is not None else {}
        vectors = [found[i] for i in ids if i in found]
        return intra_list_diversity(np.stack(vectors)) if vectors else 0.0

    def _similar(
        self,
        model: str,
        product_id: str,
        params: Params,
        scorer_for: Callable[[Payload], Scorer] | None = None,
    ) -> RecommendResponse:
        """The pipeline for a catalogue product (blocking: `_pipeline` runs it)."""
        store = self.collections.model_store(model, RECOMMEND_MODELS)
        query = self.products.product_or_404(product_id)
        qid = int(query.product_id)
        vector = store.vectors([qid]).get(qid)
        if vector is None:
            why = "it has no usable image" if not query.has_image else "it is not in the collection"
            raise RequestError(
                404,
                f"product {qid} has no {model} vector: {why}; find products like it by its "
                "text with POST /search (model clip_text)",
            )
        outcome = recommend(
            store,
            vector,
            params,
            self.categories,
            self.products.payload(qid).get(self.categories.field),
            frozenset({qid}),
            self.products.payload,
            None if scorer_for is None else scorer_for(self.products.payload(qid)),
        )
        return RecommendResponse(
            query_product_id=query.product_id,
            query=query,
            **self._answer_fields(model, params, outcome, "recommend"),
        )

    # Several examples ----------------------------------------------------------------------

    async def like_these(
        self,
        model: str,
        examples: ExampleIds,
        params: Params,
        scorer_for: Callable[[Payload], Scorer] | None = None,
        depends_on: tuple[object, ...] | None = (),
    ) -> Served:
        """Products like the positive examples and unlike the negative ones (400 unknown model
        or examples that cancel out, 404 naming an unknown product or one without a vector).
        `scorer_for` and `depends_on` as for `similar`; the ranker compares candidates with the
        first positive (or negative)."""
        key = None
        if depends_on is not None:
            key = cache_key("examples", model, examples, params, self.scope(model), *depends_on)
        return await self.serve(
            "examples",
            model,
            examples.label,
            params,
            key,
            lambda: self._pipeline(self._like_these, model, examples, params, scorer_for),
        )

    def _like_these(
        self,
        model: str,
        ids: ExampleIds,
        params: Params,
        scorer_for: Callable[[Payload], Scorer] | None = None,
    ) -> ExamplesResponse:
        """The pipeline for several examples (blocking: `_pipeline` runs it)."""
        store = self.collections.model_store(model, RECOMMEND_MODELS)
        found = self._example_vectors(store, model, ids)
        dim = len(next(iter(found.values())))

        types = (self.products.payload(i).get(self.categories.field) for i in ids.positive)
        examples = Examples(
            ids.positive,
            rows_of(found, list(ids.positive), dim),
            ids.negative,
            rows_of(found, list(ids.negative), dim),
            ids.strategy,
            _most_frequent_first(types),
            ids.weights,
        )
        anchor = (ids.positive or ids.negative)[0]
        try:
            outcome = recommend(
                store,
                examples,
                params,
                self.categories,
                exclude=ids.exclude,
                payload_of=self.products.payload,
                scorer=None if scorer_for is None else scorer_for(self.products.payload(anchor)),
            )
        except NoDirection as exc:
            raise RequestError(400, str(exc), "negative") from exc
        shown = store.vectors([r.id for r in outcome.results])
        near = closeness(examples, rows_of(shown, [r.id for r in outcome.results], dim))
        fields = self._answer_fields(model, params, outcome, "examples")
        fields["results"] = [
            msgspec.structs.replace(result, examples=_closeness(c))
            for result, c in zip(fields["results"], near, strict=True)
        ]
        return ExamplesResponse(
            positive=[str(i) for i in ids.positive],
            negative=[str(i) for i in ids.negative],
            strategy=ids.strategy,
            **fields,
        )

    def held(self, model: str, ids: list[int]) -> set[int]:
        """The ids among `ids` that `model`'s collection holds a vector of (400: unknown model)."""
        return set(self.collections.model_store(model, RECOMMEND_MODELS).vectors(ids))

    def _example_vectors(
        self, store: VectorStore, model: str, ids: ExampleIds
    ) -> dict[int, Vector]:
        """The examples' vectors in `model`'s space, or a 404 naming the product at fault."""
        found = store.vectors(ids.positive + ids.negative)
        for i in ids.positive + ids.negative:
            product = self.products.product(i)
            field = "positive" if i in ids.positive else "negative"
            if product is None:
                raise RequestError(404, not_found(i).detail, field)
            if i not in found:
                why = "it has no usable image" if not product.has_image else "it is not indexed"
                raise RequestError(404, f"product {i} has no {model} vector: {why}", field)
        return found

    # Search ------------------------------------------------------------------------------------

    def check_search_model(self, query: SearchQuery) -> None:
        """400 before any work when the model cannot answer this kind of query."""
        allowed = TEXT_MODELS if query.text is not None else IMAGE_MODELS
        self.collections.model_store(query.options.model, allowed)

    async def search(self, query: SearchQuery) -> Served:
        """Similar products for a text or a photo; nothing excluded."""
        options = query.options
        self.check_search_model(query)
        params = search_params(options, self.filters)
        expand = query.text is not None and expands(options.model, (TEXTS,))
        scope: tuple[object, ...] = self.scope(options.model)
        if expand:  # the answer also depends on the product texts' collection
            scope += self.scope(TEXTS)
        key = cache_key("search", options.model, query.label, query.identity, params, scope)

        async def compute() -> SearchResponse:
            started = time.perf_counter()
            vector = await self._execution.on_model_thread(self._encode, query)
            metrics.observe_stages("search", encode=(time.perf_counter() - started) * 1e3)
            return await self._pipeline(self._search, query, params, vector, expand)

        return await self.serve("search", options.model, query.label, params, key, compute)

    def _encode(self, query: SearchQuery) -> Vector:
        """The query vector (model work: runs on the model thread)."""
        encoders = self._encoding.encoders
        if query.text is not None:
            return encoders.encode_query_texts(query.options.model, [query.text])[0]
        assert query.photo is not None
        image = decoded_upload(query.photo)
        return encoders.encode_images(query.options.model, [image])[0]

    def _search(
        self, query: SearchQuery, params: Params, vector: Vector, expand: bool
    ) -> SearchResponse:
        """The pipeline for a query vector (blocking: `_pipeline` runs it)."""
        model = query.options.model
        store = self.collections.model_store(model, (model,))
        texts = self.collections.store(TEXTS) if expand else None
        if texts is not None:
            vector = expanded(vector[None], texts)[0]
        outcome = recommend(
            store, vector, params, self.categories, payload_of=self.products.payload
        )
        return SearchResponse(
            query=query.label, **self._answer_fields(model, params, outcome, "search")
        )

    # Serving -----------------------------------------------------------------------------------

    async def _pipeline(self, function: Callable[..., T], *args: Any) -> T:
        """Run a pipeline call in a worker thread when the backend blocks (a Qdrant server's
        network calls, FAISS, which releases the GIL), inline for the embedded engine: its
        searches hold the GIL for their ~0.35 ms, so a thread can neither overlap them nor free
        the loop meanwhile; it only added 14 % per request (bench api, 1 connection)."""
        if self._execution.blocking:
            return await self._execution.in_thread(function, *args)
        return function(*args)

    async def serve(
        self,
        route: Route,
        model: str,
        query: str,
        params: Params,
        key: str | None,
        compute: Callable[[], Awaitable[Answer]],
    ) -> Served:
        """The cached answer for `key`, else the answer `compute()` awaits, encoded and kept.

        `key` None: not cacheable. Errors are never cached.
        """
        cache = self.cache if key is not None else None
        if cache is not None and key is not None:
            body = await cache.get(key)
            if body is not None:
                metrics.CACHE_REQUESTS.labels(route, "hit").inc()
                return Served(route, model, query, params, body, "hit")
        answer = await compute()
        body = msgspec.json.encode(answer)
        if cache is not None and key is not None:
            metrics.CACHE_REQUESTS.labels(route, "miss").inc()
            await cache.put(key, body)
        return Served(route, model, query, params, body, "off" if cache is None else "miss", answer)

    def _answer_fields(
        self, model: str, params: Params, outcome: Outcome, route: Route
    ) -> dict[str, Any]:
        """What every list of similar products says: the results with their scores, the
        parameters, the list's diversity and the stage timings (also recorded in the metrics)."""
        return {
            "model": model,
            "top_k": params.top_k,
            "results": [self._recommendation(r) for r in outcome.results],
            "parameters": parameters(model, params),
            "intra_list_diversity": round(outcome.diversity, 6),
            "timings": timings(outcome, route),
        }

    def _recommendation(self, item: Ranked) -> Recommendation:
        """One ranked product with every score that placed it."""
        product = self.products.product(item.id)
        return Recommendation(
            product_id=str(item.id),
            score=round(item.score, 6),
            ann_score=round(item.ann_score, 6),
            category_similarity=round(item.category_similarity, 6),
            category_match=item.category_match,
            mmr_rank=item.mmr_rank,
            recall_rank=item.recall_rank,
            ranker_score=None if item.ranker_score is None else round(item.ranker_score, 6),
            contributions=[Contribution(feature=f, value=v) for f, v in item.contributions] or None,
            name=product.name if product else item.payload.get("name"),
            articleType=item.payload.get("articleType"),
            baseColour=item.payload.get("baseColour"),
            gender=item.payload.get("gender"),
            image_url=product.image_url if product else None,
        )


def rows_of(vectors: dict[int, Vector], ids: list[int], dim: int) -> Vector:
    """The vectors of `ids` as the rows of one (len(ids), dim) matrix."""
    return np.array([vectors[i] for i in ids], np.float32).reshape(len(ids), dim)


def _most_frequent_first(types: Iterable[str | None]) -> tuple[str, ...]:
    """The distinct articleTypes, most frequent first (ties: first seen first)."""
    return tuple(t for t, _ in Counter(t for t in types if t).most_common())


def _closeness(c: Closeness) -> ExampleCloseness:
    """A result's closeness to the examples as the API shows it."""
    return ExampleCloseness(
        closest_positive=None if c.closest_positive is None else str(c.closest_positive),
        positive_similarity=_rounded(c.positive_similarity),
        negative_similarity=_rounded(c.negative_similarity),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def parameters(model: str, params: Params) -> Parameters:
    """The parameters a result list was computed with."""
    return Parameters(
        model=model,
        top_k=params.top_k,
        lambda_diversity=params.lambda_diversity,
        candidates=params.candidates,
        category_mode=params.category_mode,
        w_sim=params.w_sim,
        w_cat=params.w_cat,
        filters=described(params.filters, params.ranges),
        ranker=params.ranker,
    )


def timings(outcome: Outcome, route: str) -> Timings:
    """Where the time of one request went (also recorded in the metrics)."""
    metrics.observe_stages(
        route, recall=outcome.recall_ms, mmr=outcome.mmr_ms, rerank=outcome.rerank_ms
    )
    return Timings(
        recall_ms=round(outcome.recall_ms, 3),
        mmr_ms=round(outcome.mmr_ms, 3),
        rerank_ms=round(outcome.rerank_ms, 3),
        total_ms=round(outcome.total_ms, 3),
    )
