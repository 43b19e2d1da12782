"""OpenAPI documentation for `POST /search`, whose body is JSON or a multipart upload."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

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
