"""OpenAPI documentation the types cannot give: `POST /search`, whose body is JSON or a
multipart upload, and the catalogue schema's filters of `GET /recommend`."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)

from service.filters import MAX_VALUE, CatalogueFilters

_OPTIONS = {
    "top_k": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=100, default=5),
    "lambda_diversity": Schema(type=OpenAPIType.NUMBER, minimum=0, maximum=1, default=0.7),
    "candidates": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=1000, default=50),
}


@dataclass
class SearchOperation(Operation):
    """The `/search` operation with both request bodies documented."""

    def __post_init__(self) -> None:
        text = Schema(
            type=OpenAPIType.OBJECT,
            required=["text"],
            properties={
                "text": Schema(type=OpenAPIType.STRING, min_length=1, max_length=500),
                "model": Schema(
                    type=OpenAPIType.STRING, enum=["clip", "clip_text"], default="clip"
                ),
                **_OPTIONS,
            },
        )
        upload = Schema(
            type=OpenAPIType.OBJECT,
            required=["image"],
            properties={
                "image": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                "model": Schema(
                    type=OpenAPIType.STRING, enum=["clip", "resnet", "efficientnet"], default="clip"
                ),
                **_OPTIONS,
            },
        )
        self.request_body = RequestBody(
            required=True,
            description="a text query (JSON) or a photo (multipart field `image`, ≤ 10 MB)",
            content={
                "application/json": OpenAPIMediaType(schema=text),
                "multipart/form-data": OpenAPIMediaType(schema=upload),
            },
        )


def document_filters(openapi: OpenAPI, filters: CatalogueFilters) -> None:
    """List the catalogue's filters as query parameters of `GET /recommend` (the route reads
    them from the query, since they come from the catalogue schema, not from its signature)."""
    operation = openapi.paths["/recommend"].get if openapi.paths else None
    if operation is None:
        return
    text = Schema(type=OpenAPIType.STRING, max_length=MAX_VALUE)
    number = Schema(type=OpenAPIType.NUMBER)
    documented = [
        *(
            Parameter(name, "query", schema=text, description="exact match (facet)")
            for name in filters.facets
        ),
        *(
            Parameter(name, "query", schema=number, description="inclusive range bound")
            for name in filters.names[len(filters.facets) :]
        ),
    ]
    operation.parameters = [*(operation.parameters or []), *documented]
