"""The Gradio page: controls on the left, the query and its explained results on the right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components import Component

from ui.actions import Actions, new_shopper, picked
from ui.client import LookalikeClient
from ui.examples import NO_VOTES, ExampleActions, voted
from ui.experiments import ExperimentActions, experiments_tab, wire_experiments
from ui.guide import (
    CATEGORY_HELP,
    DEFAULT_MODEL,
    FILTER_LABELS,
    FILTERS,
    LAMBDA_HELP,
    MODELS,
    PHOTO_SEARCH_MODELS,
    TEXT_SEARCH_MODELS,
    model_help,
)
from ui.manage import ManageActions, ManageTab, manage_tab
from ui.ranker import ranker_picker
from ui.views import notice

# A click (or Enter) on a result card asks the server to make that product the query, and to
# report the click against the list it was shown in (its grid's ranking id).
OPEN_CARD_JS = """
const open = (event) => {
  const card = event.target.closest('[data-product-id]');
  const vote = event.target.closest('[data-vote]');
  if (card && vote) {
    if (event.type === 'click') {
      trigger('select', {product_id: card.dataset.productId, vote: vote.dataset.vote});
    }
    return;
  }
  if (card && (event.type === 'click' || event.key === 'Enter')) {
    const list = card.closest('[data-ranking-id]');
    trigger('click', {
      product_id: card.dataset.productId,
      ranking_id: list ? list.dataset.rankingId : '',
    });
  }
};
element.addEventListener('click', open);
element.addEventListener('keydown', open);
"""
SCROLL_TOP_JS = "() => window.scrollTo({top: 0, behavior: 'smooth'})"
HEADER = (
    '<header class="lk-header"><h1>Lookalike</h1>'
    "<p>Similar products, explained: pick a product, tune the model and see why each "
    "recommendation is there.</p></header>"
)


def _choices(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, name) for name, label in labels.items()]


MODEL_CHOICES = _choices({name: label for name, (label, _) in MODELS.items()})


@dataclass(frozen=True)
class TuningPanel:
    """The tuning panel: every control that shapes a result list."""

    model: gr.Radio
    lambda_slider: gr.Slider
    top_k: gr.Slider
    mode: gr.Radio
    ranker: gr.Radio
    ranker_note: gr.Markdown
    filters: list[gr.Dropdown]

    @property
    def inputs(self) -> list[Component]:
        """The controls in the order `ui.actions.tuning` takes them."""
        return [self.model, self.lambda_slider, self.top_k, self.mode, self.ranker, *self.filters]

    @property
    def changes(self) -> list[Any]:
        """The events after which the results must be refreshed."""
        return [
            self.model.input,
            self.mode.input,
            self.ranker.input,
            self.lambda_slider.release,
            self.top_k.release,
            *(box.input for box in self.filters),
        ]


def _tuning_panel() -> TuningPanel:
    """Model, λ, top_k, category mode, ranker and filters, each with a line on what it does.

    The ranker picker offers only the static ranker until the page learns that a learned
    model is served (`Actions.ranker`, on load)."""
    gr.Markdown("### 2 · Tuning")
    model = gr.Radio(MODEL_CHOICES, value=DEFAULT_MODEL, label="Model", elem_id="model")
    note = gr.Markdown(model_help(DEFAULT_MODEL), elem_id="model-note")
    model.input(model_help, model, note)
    lambda_slider = gr.Slider(
        0.0,
        1.0,
        value=0.7,
        step=0.05,
        label="λ · relevance ↔ diversity",
        info=LAMBDA_HELP,
        elem_id="lambda",
    )
    top_k = gr.Slider(1, 20, value=5, step=1, label="Results (top_k)", elem_id="top-k")
    mode = gr.Radio(
        ["soft", "hard", "off"],
        value="soft",
        label="Category mode",
        info=CATEGORY_HELP,
        elem_id="category-mode",
    )
    ranker = ranker_picker(None, label="Ranker", elem_id="ranker")
    ranker_note = gr.Markdown(elem_id="ranker-note")
    with gr.Accordion("Filters", open=False):
        filters = [
            gr.Dropdown(
                [("Any", ""), *((v, v) for v in values)],
                value="",
                label=FILTER_LABELS[name],
                allow_custom_value=True,
                elem_id=f"filter-{name}",
            )
            for name, values in FILTERS.items()
        ]
    return TuningPanel(model, lambda_slider, top_k, mode, ranker, ranker_note, filters)


def _compare_tab(actions: Actions, product_id: gr.Textbox, tuning: TuningPanel) -> gr.HTML:
    """Result rows of several models for the same product; returns the rows' HTML."""
    with gr.Tab("Compare models", id="compare") as tab:
        with gr.Row():
            models = gr.CheckboxGroup(
                MODEL_CHOICES,
                value=list(MODELS),
                label="Models side by side (same product and tuning)",
                scale=4,
            )
            button = gr.Button("Compare", scale=1)
        rows = gr.HTML(elem_id="comparison", js_on_load=OPEN_CARD_JS)
    gr.on([button.click, tab.select], actions.compare, [product_id, models, *tuning.inputs], rows)
    return rows


def _search_tab(actions: Actions, tuning: TuningPanel, user: gr.State) -> gr.HTML:
    """Search by a text or an uploaded photo; returns the results' HTML."""
    with gr.Tab("Search by text or photo", id="search"):
        gr.Markdown("λ and the number of results come from the tuning panel.")
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(
                    label="Describe the product",
                    placeholder="red summer dress",
                    elem_id="search-text",
                )
                text_model = gr.Radio(
                    _choices(TEXT_SEARCH_MODELS), value="clip", label="Text model"
                )
                text_button = gr.Button("Search text")
            with gr.Column():
                photo = gr.Image(type="filepath", label="Or upload a photo", elem_id="search-photo")
                photo_model = gr.Radio(
                    _choices(PHOTO_SEARCH_MODELS), value="clip", label="Image model"
                )
        found = gr.HTML(elem_id="search-results", js_on_load=OPEN_CARD_JS)
        found_why = gr.HTML()
    knobs = [tuning.lambda_slider, tuning.top_k, user]
    gr.on(
        [text_button.click, text.submit, text_model.input],
        actions.search_text,
        [text, text_model, *knobs],
        [found, found_why],
    )
    gr.on(
        [photo.upload, photo_model.input],
        actions.search_photo,
        [photo, photo_model, *knobs],
        [found, found_why],
    )
    return found


def _wire_manage(
    manage_actions: ManageActions,
    tab: ManageTab,
    product_id: gr.Textbox,
    listing: list[Component],
    views: list[Component],
    tabs: gr.Tabs,
) -> None:
    """Writes from the manage tab; an added or saved product is shown with its results.

    `listing` is the shopper id and the tuning controls, as `Actions.recommend` takes them.
    """
    form = [tab.product_id, *tab.fields]
    shown = [tab.status, *views]
    tab.add.click(manage_actions.add, [tab.key, tab.photo, *form, *listing], shown).then(
        lambda: gr.Tabs(selected="similar"), None, tabs, js=SCROLL_TOP_JS
    )
    tab.load.click(manage_actions.load, product_id, form)
    tab.save.click(manage_actions.save, [tab.key, *form, *listing], shown)
    tab.delete.click(manage_actions.delete, [tab.key, tab.product_id], tab.status)


def _wire_examples(
    actions: ExampleActions, listing: list[Component], grids: tuple[gr.HTML, ...], more: gr.HTML
) -> None:
    """A thumb on a card of any grid updates the examples and the 'More like these' list."""
    positive, negative = gr.State([]), gr.State([])
    for grid in grids:
        grid.select(voted, [positive, negative], [positive, negative]).then(
            actions.more_like_these, [positive, negative, *listing], more
        )


def build_blocks(client: LookalikeClient) -> gr.Blocks:
    """The whole page, wired to `client`; no ML runs here, every number comes from the API."""
    actions = Actions(client)
    with gr.Blocks(title="Lookalike", analytics_enabled=False) as blocks:
        user = gr.State()  # this browser session's shopper id, set on load
        gr.HTML(HEADER)
        status = gr.HTML(elem_id="api-status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300, elem_id="controls"):
                gr.Markdown("### 1 · Query product")
                name_box = gr.Textbox(
                    label="Find by name", placeholder="e.g. navy shirt", elem_id="name-search"
                )
                matches = gr.Dropdown(label="Matches", choices=[], elem_id="matches")
                with gr.Row():
                    product_id = gr.Textbox(
                        label="Product id", placeholder="15970", elem_id="product-id", scale=2
                    )
                    random_button = gr.Button("Random product", elem_id="random-product", scale=1)
                show_button = gr.Button("Show similar products", variant="primary")
                tuning = _tuning_panel()
            with gr.Column(scale=3):
                query = gr.HTML(elem_id="query")
                event_status = gr.HTML(elem_id="event-status")
                with gr.Tabs() as tabs:
                    with gr.Tab("Similar products", id="similar"):
                        grid = gr.HTML(elem_id="results", js_on_load=OPEN_CARD_JS)
                        gr.Markdown("#### More like these")
                        more = gr.HTML(
                            notice(NO_VOTES), elem_id="more-like-these", js_on_load=OPEN_CARD_JS
                        )
                        why = gr.HTML(elem_id="why")
                        gr.Markdown("#### For you")
                        for_you_button = gr.Button("Show my list", elem_id="for-you-refresh")
                        for_you = gr.HTML(elem_id="for-you", js_on_load=OPEN_CARD_JS)
                    comparison = _compare_tab(actions, product_id, tuning)
                    found = _search_tab(actions, tuning, user)
                    manage = manage_tab()
                    experiments = experiments_tab()
                    with gr.Tab("About the models", id="models"):
                        models_table = gr.HTML(elem_id="models-table")

        views = [product_id, query, grid, why]
        listing = [user, *tuning.inputs]
        gr.on(
            [show_button.click, product_id.submit, *tuning.changes],
            actions.recommend,
            [product_id, *listing],
            views,
            trigger_mode="always_last",  # the page always ends on the latest settings
        )
        matches.input(actions.recommend, [matches, *listing], views)
        random_button.click(actions.random, listing, views)
        name_box.submit(actions.find, name_box, matches)
        examples = ExampleActions(client)
        _wire_examples(examples, listing, (grid, more, for_you), more)
        for_you_button.click(examples.for_you, listing, for_you)
        for results in (grid, comparison, found, more, for_you):
            results.click(picked, None, product_id).then(
                actions.recommend, [product_id, *listing], views
            ).then(lambda: gr.Tabs(selected="similar"), None, tabs, js=SCROLL_TOP_JS)
            # Its own listener: the new query never waits for the event to be reported.
            results.click(actions.click, user, event_status)
        _wire_manage(ManageActions(actions), manage, product_id, listing, [*views], tabs)
        wire_experiments(ExperimentActions(client), experiments)
        blocks.load(actions.status, None, [status, models_table])
        blocks.load(actions.ranker, None, [tuning.ranker, tuning.ranker_note])
        blocks.load(new_shopper, None, user).then(actions.random, listing, views)
    return blocks
