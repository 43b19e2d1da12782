"""Request and response shapes of the REST API (msgspec Structs; the OpenAPI schema comes from them)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

CategoryMode = Literal["soft", "hard", "off"]
USER_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class Product(msgspec.Struct, kw_only=True):
    """A catalogue product as clients see it (ids are strings)."""

    product_id: str
    name: str | None
    gender: str | None
    masterCategory: str | None
    subCategory: str | None
    articleType: str | None
    baseColour: str | None
    season: str | None
    year: int | None
    usage: str | None
    has_image: bool
    image_url: str | None


class SchemaTable(msgspec.Struct, kw_only=True):
    """The catalogue's table file, relative to the ingested source folder."""

    path: str


class SchemaFields(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The role of each column of the catalogue's table."""

    id: str
    title: str
    category: str
    text: list[str]
    facets: list[str]
    category_path: list[str] = []
    numeric: list[str] = []
    phrase: list[str] = []
    order: list[str] = []


class SchemaImage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where each product's image is: a path template with `{id}`, or a column."""

    template: str | None = None
    column: str | None = None


class CatalogueSchemaInfo(msgspec.Struct, kw_only=True):
    """`GET /schema`: the catalogue schema the served catalogue was ingested with."""

    table: SchemaTable
    fields: SchemaFields
    image: SchemaImage


class Contribution(msgspec.Struct, kw_only=True):
    """How much one feature moved the learned ranker's score (LightGBM's pred_contrib)."""

    feature: str
    value: float


class ExampleCloseness(msgspec.Struct, kw_only=True):
    """How a result of `POST /recommend` relates to the examples: the positive it is closest
    to (cosine) and its best cosine to a negative (null without negatives)."""

    closest_positive: str | None
    positive_similarity: float | None
    negative_similarity: float | None


class Recommendation(msgspec.Struct, kw_only=True):
    """One recommended product with every score that placed it."""

    product_id: str
    score: float
    ann_score: float
    category_similarity: float
    category_match: bool
    mmr_rank: int
    recall_rank: int
    ranker_score: float | None = None
    contributions: list[Contribution] | None = None
    examples: ExampleCloseness | None = None  # POST /recommend only
    name: str | None
    articleType: str | None
    baseColour: str | None
    gender: str | None
    image_url: str | None


class Timings(msgspec.Struct, kw_only=True):
    """Where the time of one request went, in milliseconds."""

    recall_ms: float
    mmr_ms: float
    rerank_ms: float
    total_ms: float


class Parameters(msgspec.Struct, kw_only=True):
    """The parameters a result list was computed with (defaults filled in)."""

    model: str
    top_k: int
    lambda_diversity: float
    candidates: int
    category_mode: CategoryMode
    w_sim: float
    w_cat: float
    filters: dict[str, str | float]
    ranker: Literal["static", "learned"] = "static"


class RecommendResponse(msgspec.Struct, kw_only=True):
    """`GET /recommend`: the seed contract plus parameters, query product and timings."""

    query_product_id: str
    model: str
    top_k: int
    results: list[Recommendation]
    parameters: Parameters
    query: Product
    intra_list_diversity: float
    timings: Timings


class RecommendServed(RecommendResponse, kw_only=True):
    """`GET /recommend` as served: the answer, the list's id (send it with `POST /events`) and
    the experiment arm that served it (null when no experiment applies)."""

    ranking_id: str
    experiment: str | None
    arm: str | None


ExampleIds = Annotated[list[str | int], msgspec.Meta(max_length=20)]


class ExamplesRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`POST /recommend`: products like the positive examples and unlike the negative ones
    (1–20 positives, 0–20 negatives; `best_score` also takes negatives alone)."""

    positive: ExampleIds = msgspec.field(default_factory=list)
    negative: ExampleIds = msgspec.field(default_factory=list)
    strategy: Literal["average_vector", "best_score", "sum_scores"] = "average_vector"
    model: str = "clip"
    top_k: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    lambda_diversity: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.7
    candidates: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    category_mode: CategoryMode = "soft"
    w_sim: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.6
    w_cat: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.4
    filters: dict[str, Annotated[str, msgspec.Meta(max_length=100)]] = msgspec.field(
        default_factory=dict
    )
    user_id: Annotated[str, msgspec.Meta(pattern=USER_ID_PATTERN)] | None = None
    ranker: Literal["static", "learned"] = "static"


class ExamplesResponse(msgspec.Struct, kw_only=True):
    """`POST /recommend`: the examples, the strategy and the ranked products (each with the
    positive it is closest to and its distance from the negatives)."""

    positive: list[str]
    negative: list[str]
    strategy: str
    model: str
    top_k: int
    results: list[Recommendation]
    parameters: Parameters
    intra_list_diversity: float
    timings: Timings


class ExamplesServed(ExamplesResponse, kw_only=True):
    """`POST /recommend` as served: the answer, the list's id and its experiment arm."""

    ranking_id: str
    experiment: str | None
    arm: str | None


class UsedEvent(msgspec.Struct, kw_only=True):
    """A shopper's event that `GET /recommend/for-you` used: its product's weight as a positive."""

    type: str
    product_id: str
    ranking_id: str
    at: str  # ISO-8601, UTC
    weight: float


class ForYouServed(ExamplesServed, kw_only=True):
    """`GET /recommend/for-you`: a list from the shopper's recent events (newest first)."""

    user_id: str
    events: list[UsedEvent]


class SearchOptions(msgspec.Struct, kw_only=True):
    """Knobs of `POST /search` (JSON fields, or form fields beside an uploaded `image`)."""

    model: str = "clip"
    top_k: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    lambda_diversity: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.7
    candidates: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    user_id: Annotated[str, msgspec.Meta(pattern=USER_ID_PATTERN)] | None = None
    # Every facet of the catalogue schema (`GET /schema`) by exact match, and `<numeric>_min` /
    # `<numeric>_max` inclusive ranges.
    filters: dict[str, str | float] = {}


class SearchRequest(SearchOptions, kw_only=True):
    """`POST /search` with a JSON body: a text query (`clip` = text→image, `clip_text` = text→text,
    `hybrid` = text against image, text and category together)."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class SearchResponse(msgspec.Struct, kw_only=True):
    """`POST /search`: results for a text or image query (no product excluded)."""

    query: str
    model: str
    top_k: int
    results: list[Recommendation]
    parameters: Parameters
    intra_list_diversity: float
    timings: Timings


class SearchServed(SearchResponse, kw_only=True):
    """`POST /search` as served: the answer, the list's id and its experiment arm (null)."""

    ranking_id: str
    experiment: str | None
    arm: str | None


class ModelInfo(msgspec.Struct, kw_only=True):
    """A served model: its collection size, dimension and where its weights came from."""

    name: str
    description: str
    count: int
    dim: int
    weights: str


class Health(msgspec.Struct, kw_only=True):
    """Liveness / readiness answer."""

    status: Literal["ok", "unavailable"]
    detail: dict[str, str] = msgspec.field(default_factory=dict)


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every 4xx/5xx: what was wrong, the field at fault (if any) and what to do."""

    status_code: int
    detail: str
    field: str | None = None


class ProductWritten(msgspec.Struct, kw_only=True):
    """A write's result: the stored product, the models that hold it, the new catalogue version."""

    product: Product
    models: list[str]
    catalogue_version: int


class CatalogInfo(msgspec.Struct, kw_only=True):
    """`GET /catalog`: product counts, the catalogue version and when it last changed."""

    products: int
    with_image: int
    without_image: int
    version: int
    last_write: str | None
    writes_enabled: bool
