"""What each control does: ask the API through the client, answer with HTML for the page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import gradio as gr

from service.schemas import CategoryMode, Product, SearchServed
from ui.client import ApiError, LookalikeClient, Ranker, Tuning
from ui.guide import FILTERS
from ui.ranker import ranker_note, ranker_picker
from ui.views import (
    comparison,
    error_banner,
    event_note,
    model_table,
    notice,
    query_card,
    result_grid,
    why_panel,
)

# product id, query card, result grid, 'why these results' panel
Views = tuple[str, str, str, str]
PICK_A_PRODUCT = "Pick a product: search by name, paste an id or press Random product."


def tuning(
    model: str,
    lambda_diversity: float,
    top_k: float,
    category_mode: CategoryMode,
    ranker: Ranker,
    *filters: str,
) -> Tuning:
    """The Tuning of the sidebar controls, in the order the layout passes them."""
    return Tuning(
        model=model,
        top_k=int(top_k),
        lambda_diversity=float(lambda_diversity),
        category_mode=category_mode,
        ranker=ranker,
        filters=dict(zip(FILTERS, (f or "" for f in filters), strict=True)),
    )


class Actions:
    """The event handlers of the page, bound to one API client."""

    def __init__(self, client: LookalikeClient) -> None:
        self.client = client

    def recommend(self, product_id: str | None, user_id: str | None, *controls: Any) -> Views:
        """Similar products for `product_id`, tuned by the sidebar controls, for the session's
        shopper `user_id` (so a running experiment applies to the page too)."""
        if not product_id or not product_id.strip():
            return "", "", notice(PICK_A_PRODUCT), ""
        try:
            response = self.client.recommend(product_id, tuning(*controls), user_id)
        except ApiError as exc:
            return product_id, "", error_banner(str(exc)), ""
        query = response.query
        return (
            query.product_id,
            query_card(query),
            result_grid(response.results, ranking_id=response.ranking_id),
            why_panel(
                response.results,
                response.timings,
                response.parameters,
                response.intra_list_diversity,
                query.articleType,
                experiment=response.experiment,
                arm=response.arm,
            ),
        )

    def random(self, user_id: str | None, *controls: Any) -> Views:
        """Similar products for a random catalogue product."""
        try:
            product = self.client.random_product()
        except ApiError as exc:
            return "", "", error_banner(str(exc)), ""
        return self.recommend(product.product_id, user_id, *controls)

    def find(self, text: str) -> gr.Dropdown:
        """The match picker, offering the products whose name contains `text`."""
        text = text.strip()
        if not text:
            return _picker([], PICK_A_PRODUCT)
        try:
            found = self.client.find_products(text)
        except ApiError as exc:
            return _picker([], str(exc))
        if not found:
            return _picker([], f"No product name contains {text!r}.")
        return _picker(found, f"{len(found)} products match {text!r}: choose one.")

    def compare(self, product_id: str, models: Sequence[str], *controls: Any) -> str:
        """One result row per chosen model for the same product and controls.

        Sent without the shopper id on purpose: an experiment arm that sets the model would
        otherwise replace every row's model, and the rows would no longer compare models.
        """
        if not product_id.strip():
            return notice(PICK_A_PRODUCT)
        if not models:
            return notice("Tick at least one model to compare.")
        base = tuning(*controls)
        try:
            responses = [
                self.client.recommend(product_id, replace(base, model=model)) for model in models
            ]
        except ApiError as exc:
            return error_banner(str(exc))
        return comparison(responses)

    def search_text(
        self,
        text: str,
        model: str,
        lambda_diversity: float,
        top_k: float,
        user_id: str | None = None,
    ) -> tuple[str, str]:
        """Products matching a text description."""
        if not text.strip():
            return notice("Describe what you look for, e.g. 'red summer dress'."), ""
        tuning = Tuning(model=model, top_k=int(top_k), lambda_diversity=float(lambda_diversity))
        return self._search(lambda: self.client.search_text(text, tuning, user_id))

    def search_photo(
        self,
        path: str | None,
        model: str,
        lambda_diversity: float,
        top_k: float,
        user_id: str | None = None,
    ) -> tuple[str, str]:
        """Products that look like an uploaded photo."""
        if not path:
            return notice("Upload a photo to find products that look like it."), ""
        image = Path(path)
        tuning = Tuning(model=model, top_k=int(top_k), lambda_diversity=float(lambda_diversity))
        return self._search(
            lambda: self.client.search_image(image.read_bytes(), image.name, tuning, user_id)
        )

    def click(self, user_id: str | None, evt: gr.EventData) -> str:
        """Report a click on a result card as a click event on its list; "" once it is kept.

        A refused or failed report is a small note: browsing goes on regardless.
        """
        product_id = str(getattr(evt, "product_id", "") or "")
        ranking_id = str(getattr(evt, "ranking_id", "") or "")
        if not product_id or not ranking_id:
            return ""  # a list the API did not name (nothing to report it against)
        try:
            taken = self.client.click(ranking_id, product_id, user_id)
        except ApiError as exc:
            return event_note(str(exc))
        if taken.rejected:
            return event_note(taken.rejected[0].reason)
        return ""

    def _search(self, call: Callable[[], SearchServed]) -> tuple[str, str]:
        try:
            response = call()
        except ApiError as exc:
            return error_banner(str(exc)), ""
        return (
            result_grid(response.results, with_category=False, ranking_id=response.ranking_id),
            why_panel(
                response.results,
                response.timings,
                response.parameters,
                response.intra_list_diversity,
                with_category=False,
            ),
        )

    def ranker(self) -> tuple[gr.Radio, str]:
        """The ranker picker and its note: learned offered only while `GET /ranker` has a model."""
        try:
            info = self.client.ranker()
        except ApiError as exc:
            return ranker_picker(None), str(exc)
        return ranker_picker(info), ranker_note(info)

    def status(self) -> tuple[str, str]:
        """The API's readiness line and its table of served models."""
        try:
            models = self.client.models()
            health = self.client.health()
        except ApiError as exc:
            return error_banner(str(exc), "The API is not available"), ""
        states = ", ".join(f"{name} {state}" for name, state in health.detail.items())
        ready = "ready" if health.status == "ok" else f"not ready ({states})"
        line = f"API {self.client.base_url} · {ready} · {len(models)} models"
        return notice(line), model_table(models)


def _picker(products: Sequence[Product], info: str) -> gr.Dropdown:
    """The match picker offering `products` by name and id, with a line on what was found."""
    choices = [(f"{p.name or 'unnamed'} · #{p.product_id}", p.product_id) for p in products]
    return gr.Dropdown(choices=choices, value=None, info=info)


def new_shopper() -> str:
    """A shopper id for one browser session: every list and click of the page carries it."""
    return f"ui-{uuid4().hex}"


def picked(evt: gr.EventData) -> str:
    """The product id of the clicked result card."""
    return str(getattr(evt, "product_id", ""))
