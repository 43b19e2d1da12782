"""Typed HTTP client of the Lookalike REST API: every number the UI shows comes through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote
from uuid import uuid4

import httpx
import msgspec

from core.errors import LookalikeError
from service.schemas import (
    CategoryMode,
    ErrorBody,
    ExamplesServed,
    ForYouServed,
    Health,
    ModelInfo,
    Product,
    ProductWritten,
    RecommendServed,
    SearchServed,
)
from ui.shapes import EventsTaken, ExperimentListed, ExperimentResult, RankerInfo

T = TypeVar("T")
Ranker = Literal["static", "learned"]
# An event is a side effect of browsing: never make the shopper wait long for it.
EVENT_TIMEOUT_S = 5.0


class ApiError(LookalikeError):
    """The API gave no usable answer; the message says what happened and how to fix it."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Tuning:
    """How a result list is computed: the knobs a merchandiser turns."""

    model: str = "clip"
    top_k: int = 5
    lambda_diversity: float = 0.7
    category_mode: CategoryMode = "soft"
    ranker: Ranker = "static"
    filters: Mapping[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str | int | float]:
        """The query-string parameters of `GET /recommend` (empty filters left out)."""
        params: dict[str, str | int | float] = {
            "model": self.model,
            "top_k": self.top_k,
            "lambda_diversity": self.lambda_diversity,
            "category_mode": self.category_mode,
            "ranker": self.ranker,
        }
        params.update({name: value for name, value in self.filters.items() if value})
        return params


class LookalikeClient:
    """Calls the REST API at `base_url` and decodes its answers into the API's own Structs.

    `events_key` is the server's LOOKALIKE_EVENTS_KEY, sent with every `POST /events` if set.
    """

    def __init__(self, base_url: str, timeout: float = 30.0, events_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.events_key = events_key
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def health(self) -> Health:
        """`GET /ready`: whether the API can answer recommendations now (503 = not yet)."""
        return self._call(Health, "GET", "/ready", also_ok=HTTPStatus.SERVICE_UNAVAILABLE)

    def models(self) -> list[ModelInfo]:
        """`GET /models`: the served models with their size and weights."""
        return self._call(list[ModelInfo], "GET", "/models")

    def product(self, product_id: str) -> Product:
        """`GET /products/{id}`: one catalogue product."""
        return self._call(Product, "GET", f"/products/{_clean_id(product_id)}")

    def random_product(self) -> Product:
        """`GET /products/random`: a random product that has an image."""
        return self._call(Product, "GET", "/products/random")

    def find_products(self, text: str, limit: int = 20) -> list[Product]:
        """`GET /products?q=`: products whose name contains `text`."""
        return self._call(list[Product], "GET", "/products", params={"q": text, "limit": limit})

    def recommend(
        self, product_id: str, tuning: Tuning, user_id: str | None = None
    ) -> RecommendServed:
        """`GET /recommend`: products similar to `product_id`, tuned by `tuning`, for the
        shopper `user_id` (an experiment's arm may then override the tuning)."""
        params = {"product_id": _clean_id(product_id), **tuning.query(), **_shopper(user_id)}
        return self._call(RecommendServed, "GET", "/recommend", params=params)

    def recommend_examples(
        self,
        positive: Sequence[str],
        negative: Sequence[str],
        tuning: Tuning,
        user_id: str | None = None,
        strategy: str = "best_score",
    ) -> ExamplesServed:
        """`POST /recommend`: products like the `positive` examples and unlike the `negative`."""
        body: dict[str, Any] = {
            "positive": list(positive),
            "negative": list(negative),
            "strategy": strategy,
            "model": tuning.model,
            "top_k": tuning.top_k,
            "lambda_diversity": tuning.lambda_diversity,
            "category_mode": tuning.category_mode,
            "ranker": tuning.ranker,
            "filters": {k: v for k, v in tuning.filters.items() if v},
            **_shopper(user_id),
        }
        return self._call(ExamplesServed, "POST", "/recommend", json=body)

    def for_you(self, user_id: str, tuning: Tuning) -> ForYouServed | None:
        """`GET /recommend/for-you`: a list from the shopper's recent events; None while the
        shopper has none (404)."""
        params = {"user_id": user_id, "top_k": tuning.top_k, "model": tuning.model}
        try:
            return self._call(ForYouServed, "GET", "/recommend/for-you", params=params)
        except ApiError as exc:
            if exc.status_code == HTTPStatus.NOT_FOUND:
                return None
            raise

    def search_text(self, text: str, tuning: Tuning, user_id: str | None = None) -> SearchServed:
        """`POST /search` with JSON: products matching a text description."""
        body = {"text": text, **_search_fields(tuning), **_shopper(user_id)}
        return self._call(SearchServed, "POST", "/search", json=body)

    def search_image(
        self, image: bytes, filename: str, tuning: Tuning, user_id: str | None = None
    ) -> SearchServed:
        """`POST /search` with a multipart upload: products that look like the photo."""
        fields = {
            name: str(value)
            for name, value in {**_search_fields(tuning), **_shopper(user_id)}.items()
        }
        files = {"image": (filename, image, "application/octet-stream")}
        return self._call(SearchServed, "POST", "/search", data=fields, files=files)

    def click(self, ranking_id: str, product_id: str, user_id: str | None) -> EventsTaken:
        """`POST /events`: the shopper clicked `product_id` in the list `ranking_id`.

        A fresh `event_id` per click, so a retried request is counted once.
        """
        event = {
            "type": "click",
            "ranking_id": ranking_id,
            "product_id": product_id,
            "user_id": user_id,
            "event_id": f"ui-{uuid4().hex}",
        }
        return self.send_events([event])

    def send_events(self, events: list[Mapping[str, Any]]) -> EventsTaken:
        """`POST /events`: up to 1,000 shopper events (with the events key, if configured)."""
        headers = {"Authorization": f"Bearer {self.events_key}"} if self.events_key else None
        return self._call(
            EventsTaken,
            "POST",
            "/events",
            json=[dict(e) for e in events],
            headers=headers,
            timeout=EVENT_TIMEOUT_S,
        )

    def experiments(self) -> list[ExperimentListed]:
        """`GET /experiments`: every experiment's latest run, newest first."""
        return self._call(list[ExperimentListed], "GET", "/experiments")

    def experiment(self, name: str) -> ExperimentResult:
        """`GET /experiments/{name}`: each arm's counts, CTR, lift and the tests' p-values."""
        return self._call(ExperimentResult, "GET", f"/experiments/{quote(name, safe='')}")

    def ranker(self) -> RankerInfo | None:
        """`GET /ranker`: the learned ranker being served; None while none is trained (409)."""
        try:
            return self._call(RankerInfo, "GET", "/ranker")
        except ApiError as exc:
            if exc.status_code == HTTPStatus.CONFLICT:
                return None
            raise

    def add_product(
        self, metadata: Mapping[str, Any], image: bytes | None, filename: str, key: str
    ) -> ProductWritten:
        """`POST /products`: add a product (multipart metadata + optional photo)."""
        files = {"image": (filename, image, "application/octet-stream")} if image else None
        return self._call(
            ProductWritten,
            "POST",
            "/products",
            data={"metadata": msgspec.json.encode(dict(metadata)).decode()},
            files=files,
            headers=_bearer(key),
        )

    def change_product(
        self, product_id: str, fields: Mapping[str, Any], key: str
    ) -> ProductWritten:
        """`PATCH /products/{id}`: change some metadata fields."""
        path = f"/products/{_clean_id(product_id)}"
        return self._call(ProductWritten, "PATCH", path, json=dict(fields), headers=_bearer(key))

    def delete_product(self, product_id: str, key: str) -> None:
        """`DELETE /products/{id}`: remove a product from the catalogue and every model."""
        self._send("DELETE", f"/products/{_clean_id(product_id)}", headers=_bearer(key))

    def image(self, product_id: str) -> tuple[bytes, str]:
        """`GET /products/{id}/image`: the image bytes and their content type."""
        response = self._send("GET", f"/products/{_clean_id(product_id)}/image")
        return response.content, response.headers.get("content-type", "image/png")

    def _call(
        self, shape: type[T], method: str, path: str, also_ok: int | None = None, **kwargs: Any
    ) -> T:
        response = self._send(method, path, also_ok, **kwargs)
        try:
            return msgspec.json.decode(response.content, type=shape)
        except msgspec.DecodeError as exc:
            raise ApiError(
                f"The API at {self.base_url} answered {path} in an unexpected shape ({exc}). "
                "The UI and the API are probably different versions: update both."
            ) from exc

    def _send(
        self, method: str, path: str, also_ok: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"The API at {self.base_url} did not answer within "
                f"{kwargs.get('timeout', self.timeout):g} s. "
                "It may still be loading its models: try again in a moment."
            ) from exc
        except httpx.TransportError as exc:
            raise ApiError(
                f"Cannot reach the Lookalike API at {self.base_url} ({type(exc).__name__}). "
                "Start it with `lookalike serve`, or point the UI at a running one with "
                "`lookalike ui --api-url URL` (or LOOKALIKE_API_URL)."
            ) from exc
        if response.is_error and response.status_code != also_ok:
            raise ApiError(_error_message(response), response.status_code)
        return response


def _bearer(key: str) -> dict[str, str]:
    if not key.strip():
        raise ApiError(
            "Enter the API key (LOOKALIKE_API_KEY of the server) to change the catalogue."
        )
    return {"Authorization": f"Bearer {key.strip()}"}


def _shopper(user_id: str | None) -> dict[str, str]:
    """The `user_id` field when the UI knows its shopper (nothing otherwise)."""
    return {"user_id": user_id} if user_id else {}


def _clean_id(product_id: str) -> str:
    """A product id fit for a URL path; a clear error for an empty or malformed one."""
    cleaned = product_id.strip()
    if not cleaned or not cleaned.isalnum():
        raise ApiError(f"{product_id!r} is not a product id: enter the number shown on a card.")
    return cleaned


def _search_fields(tuning: Tuning) -> dict[str, str | int | float]:
    return {
        "model": tuning.model,
        "top_k": tuning.top_k,
        "lambda_diversity": tuning.lambda_diversity,
    }


def _error_message(response: httpx.Response) -> str:
    """The API's own explanation of a 4xx/5xx, or what to check when it gave none."""
    code = response.status_code
    try:
        body = msgspec.json.decode(response.content, type=ErrorBody)
    except msgspec.DecodeError:
        return (
            f"The API answered HTTP {code} without an explanation: check that "
            f"{response.request.url.copy_with(path='/', query=None)} is the Lookalike API."
        )
    where = f" (field `{body.field}`)" if body.field else ""
    if code >= 500:
        return f"The API failed (HTTP {code}){where}: {body.detail}"
    return f"{body.detail}{where}"
