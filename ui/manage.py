"""The "Manage catalogue" tab: add a product with its photo, edit or delete the current one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from catalogue.records import Metadata
from core.schema import FASHION
from service.schemas import ProductWritten
from ui.actions import Actions, Views
from ui.client import ApiError
from ui.views import error_banner, notice

# The form, in the API's order (the UI does not read GET /schema yet: the Fashion layout).
FIELDS = Metadata(FASHION).fields[1:]


def _metadata(values: tuple[Any, ...]) -> dict[str, Any]:
    """Form values to metadata: blanks left out, the year as a number."""
    fields = {
        k: (v.strip() if isinstance(v, str) else v) for k, v in zip(FIELDS, values, strict=True)
    }
    if fields.get("year") not in (None, ""):
        fields["year"] = str(int(float(fields["year"])))
    return {k: v for k, v in fields.items() if v not in (None, "")}


def _written(verb: str, result: ProductWritten) -> str:
    models = ", ".join(result.models) or "none"
    return notice(
        f"{verb} product {result.product.product_id} (catalogue version "
        f"{result.catalogue_version}); embedded by {models}."
    )


class ManageActions:
    """Catalogue writes from the page, then the product's recommendations at once."""

    def __init__(self, actions: Actions) -> None:
        self.actions = actions
        self.client = actions.client

    def add(self, key: str, photo: str | None, product_id: str, *rest: Any) -> tuple[str, *Views]:
        """Add a product; show it and its recommendations (`rest`: the form's fields, then the
        shopper id and the tuning controls)."""
        values, listing = rest[: len(FIELDS)], rest[len(FIELDS) :]
        try:
            metadata = {"id": product_id.strip(), **_metadata(values)}
            image = Path(photo).read_bytes() if photo else None
            name = Path(photo).name if photo else "photo"
            result = self.client.add_product(metadata, image, name, key)
        except (ApiError, ValueError) as exc:
            return (error_banner(str(exc), "The product was not added"), *self._unchanged())
        return (
            _written("Added", result),
            *self.actions.recommend(result.product.product_id, *listing),
        )

    def load(self, product_id: str) -> list[Any]:
        """The form filled with the current product's fields."""
        try:
            product = self.client.product(product_id)
        except ApiError:
            return [gr.update() for _ in range(len(FIELDS) + 1)]
        return [product.product_id, *(getattr(product, f) or "" for f in FIELDS)]

    def save(self, key: str, product_id: str, *rest: Any) -> tuple[str, *Views]:
        """Change the current product's fields; show it again."""
        values, listing = rest[: len(FIELDS)], rest[len(FIELDS) :]
        try:
            result = self.client.change_product(product_id, _metadata(values), key)
        except (ApiError, ValueError) as exc:
            return (error_banner(str(exc), "The product was not changed"), *self._unchanged())
        return (_written("Saved", result), *self.actions.recommend(product_id, *listing))

    def delete(self, key: str, product_id: str) -> str:
        """Remove the product from the catalogue."""
        try:
            self.client.delete_product(product_id, key)
        except ApiError as exc:
            return error_banner(str(exc), "The product was not deleted")
        return notice(f"Deleted product {product_id.strip()} from the catalogue and every model.")

    @staticmethod
    def _unchanged() -> Views:
        return (gr.update(), gr.update(), gr.update(), gr.update())  # type: ignore[return-value]


@dataclass(frozen=True)
class ManageTab:
    """The controls of the tab that the page wires to its other parts."""

    key: gr.Textbox
    photo: gr.Image
    product_id: gr.Textbox
    fields: list[gr.Textbox]
    add: gr.Button
    load: gr.Button
    save: gr.Button
    delete: gr.Button
    status: gr.HTML


def manage_tab() -> ManageTab:
    """Layout of the "Manage catalogue" tab (the page wires the events)."""
    with gr.Tab("Manage catalogue", id="manage"):
        gr.Markdown(
            "Add a product with its photo, or edit / delete the product shown above. Writes "
            "need the server's API key (LOOKALIKE_API_KEY); enter it once per visit."
        )
        key = gr.Textbox(label="API key", type="password", elem_id="api-key")
        with gr.Row():
            photo = gr.Image(type="filepath", label="Photo (JPEG or PNG)", elem_id="manage-photo")
            with gr.Column():
                product_id = gr.Textbox(label="Product id", elem_id="manage-id")
                fields = [gr.Textbox(label=name, elem_id=f"manage-{name}") for name in FIELDS]
        with gr.Row():
            add = gr.Button("Add product", variant="primary", elem_id="manage-add")
            load = gr.Button("Edit the product shown above", elem_id="manage-load")
            save = gr.Button("Save changes", elem_id="manage-save")
            delete = gr.Button("Delete product", variant="stop", elem_id="manage-delete")
        status = gr.HTML(elem_id="manage-status")
    return ManageTab(key, photo, product_id, fields, add, load, save, delete, status)
