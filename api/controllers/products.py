"""`/products`: find, show and picture products; add, replace, change and remove them."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import require_write_key
from api.errors import ApiError
from api.views import errors, json_value, upload_bytes
from catalogue.records import (
    MAX_UPLOAD,
    InvalidProduct,
    ProductImage,
    product_id_of,
    product_image,
)
from service.products import Products, product_id_or_404, product_view
from service.schemas import Product, ProductWritten
from service.writes import ProductWrites, WriteResult

# A form without a file may come url-encoded; a product without image needs no file.
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 415, 429, 501, 503)


def _object(raw: bytes | str, what: str) -> dict[str, Any]:
    value = json_value(raw, what, "metadata")
    if not isinstance(value, dict):
        raise ApiError(400, f"{what} must be a JSON object of product fields", "metadata")
    return value


async def _product_form(
    request: Request[Any, Any, Any], writes: ProductWrites, path_id: int | None
) -> tuple[int, dict[str, Any], ProductImage | None]:
    """The id, checked fields and image of a multipart product form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        raise ApiError(
            415, "send a multipart form: 'metadata' (JSON) and optionally 'image'", "content-type"
        )
    form = await request.form()
    metadata = form.get("metadata")
    if metadata is None:
        raise ApiError(400, "the form needs a 'metadata' field: a JSON object", "metadata")
    raw = _object(metadata if isinstance(metadata, str) else await metadata.read(), "metadata")
    try:
        if path_id is not None and "id" in raw and product_id_of(raw["id"]) != path_id:
            raise InvalidProduct(
                f"metadata id {raw['id']!r} differs from the path's {path_id}", "id"
            )
        product_id = path_id if path_id is not None else product_id_of(raw.get("id"))
        fields = writes.metadata.checked({k: v for k, v in raw.items() if k != "id"})
        upload = form.get("image")
        image = None
        if upload is not None and upload != "":
            image = await anyio.to_thread.run_sync(product_image, await upload_bytes(upload))
    except InvalidProduct as exc:
        raise ApiError(exc.status, str(exc), exc.field) from exc
    return product_id, fields, image


def _written(result: WriteResult) -> ProductWritten:
    assert result.record is not None
    return ProductWritten(
        product=product_view(result.record),
        models=list(result.models),
        catalogue_version=result.version,
    )


class ProductController(Controller):
    """Catalogue products: reads are open, writes need the API key."""

    path = "/products"

    @get(sync_to_thread=True, responses=errors(400))  # a database query
    def find_products(
        self,
        products: NamedDependency[Products],
        q: Annotated[str, Parameter(description="words of the product name", max_length=200)] = "",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> list[Product]:
        """Products whose name contains every word of `q` (for pickers)."""
        return products.find(q, limit)

    @get("/random", sync_to_thread=False, responses=errors(404))
    def random_product(self, products: NamedDependency[Products]) -> Product:
        """A random product with an image."""
        return products.random_product()

    @get("/{product_id:str}", sync_to_thread=False, responses=errors(404))
    def get_product(
        self, products: NamedDependency[Products], product_id: FromPath[str]
    ) -> Product:
        """One catalogue product."""
        return products.product_or_404(product_id)

    @get(
        "/{product_id:str}/image",
        sync_to_thread=True,  # reads a file
        media_type="image/png",
        responses=errors(404),
    )
    def get_product_image(
        self,
        products: NamedDependency[Products],
        request: Request[Any, Any, Any],
        product_id: FromPath[str],
    ) -> Response[bytes]:
        """The normalised 80×80 product image (PNG); its ETag changes with the image."""
        record, path = products.image(product_id)
        etag = f'"{record.get("image_sha1") or record["id"]}"'
        headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers=headers)
        return Response(path.read_bytes(), media_type="image/png", headers=headers)

    @post(
        guards=[require_write_key],
        status_code=HTTP_201_CREATED,
        responses=WRITE_ERRORS,
        request_max_body_size=MAX_UPLOAD + 1024 * 1024,
    )
    async def create_product(
        self, writes: NamedDependency[ProductWrites], request: Request[Any, Any, Any]
    ) -> ProductWritten:
        """Add a product: multipart `metadata` (JSON with `id`) and an optional `image`."""
        return _written(await writes.create(*await _product_form(request, writes, None)))

    @put(
        "/{product_id:str}",
        guards=[require_write_key],
        responses=WRITE_ERRORS,
        request_max_body_size=MAX_UPLOAD + 1024 * 1024,
    )
    async def replace_product(
        self,
        writes: NamedDependency[ProductWrites],
        request: Request[Any, Any, Any],
        product_id: FromPath[str],
    ) -> Response[ProductWritten]:
        """Create or replace a product (same form as POST; no image: kept text-only)."""
        pid, fields, image = await _product_form(request, writes, product_id_or_404(product_id))
        existed = writes.exists(pid)
        result = await writes.put(pid, fields, image)
        status = HTTP_200_OK if existed else HTTP_201_CREATED
        return Response(_written(result), status_code=status)

    @patch("/{product_id:str}", guards=[require_write_key], responses=WRITE_ERRORS)
    async def change_product(
        self,
        writes: NamedDependency[ProductWrites],
        request: Request[Any, Any, Any],
        product_id: FromPath[str],
    ) -> ProductWritten:
        """Change some metadata fields (a JSON object); the image stays."""
        pid = product_id_or_404(product_id)
        try:
            fields = writes.metadata.checked(_object(await request.body(), "body"), partial=True)
        except InvalidProduct as exc:
            raise ApiError(exc.status, str(exc), exc.field) from exc
        return _written(await writes.patch(pid, fields))

    @delete("/{product_id:str}", guards=[require_write_key], responses=WRITE_ERRORS)
    async def delete_product(
        self, writes: NamedDependency[ProductWrites], product_id: FromPath[str]
    ) -> None:
        """Remove a product from the catalogue and every model."""
        await writes.delete(product_id_or_404(product_id))
