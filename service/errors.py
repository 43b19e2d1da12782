"""What the service layer refuses, in terms a caller can show: a status, a message, a field."""

from __future__ import annotations

from core.errors import LookalikeError


class RequestError(LookalikeError):
    """A request the services cannot answer as asked: `status` says how (the HTTP status the
    API answers), `detail` what to do, `field` the parameter at fault when there is one."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


def not_found(product_id: object) -> RequestError:
    """404 for an id the catalogue does not hold."""
    shown = str(product_id)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return RequestError(404, f"no product with id {shown!r}; find ids with GET /products?q=")
