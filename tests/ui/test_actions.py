"""The page's event handlers against the real slice API: what the merchandiser sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import SAMPLE_ID
from ui.actions import Actions, tuning
from ui.client import LookalikeClient
from ui.guide import FILTERS

# The sidebar's defaults, in the order the layout passes them: model, λ, top_k, mode, ranker,
# filters.
CONTROLS: tuple[Any, ...] = ("hybrid", 0.7, 5.0, "soft", "static", *("" for _ in FILTERS))
SHOPPER = "ui-0123456789abcdef"  # what `new_shopper` gives each browser session


@pytest.fixture(scope="module")
def actions(client: LookalikeClient) -> Actions:
    return Actions(client)


def card_ids(html: str) -> list[str]:
    """The product ids of the result cards, in page order."""
    return re.findall(r'class="lk-card" data-product-id="(\d+)"', html)


def test_recommend_shows_the_query_results_and_why(
    actions: Actions, client: LookalikeClient
) -> None:
    product_id, query, grid, why = actions.recommend(f" {SAMPLE_ID} ", SHOPPER, *CONTROLS)
    expected = client.recommend(SAMPLE_ID, tuning(*CONTROLS))
    assert product_id == SAMPLE_ID
    assert f'data-query-id="{SAMPLE_ID}"' in query
    assert "Apparel › Topwear › Shirts" in query
    assert card_ids(grid) == [r.product_id for r in expected.results]
    assert grid.count("lk-badge--same") == sum(r.category_match for r in expected.results)
    assert f"{expected.results[0].score:.3f}" in grid
    matches = sum(r.category_match for r in expected.results)
    assert f'Exact category match@5</p><p class="lk-tile-value">{matches}/5' in why
    assert re.search(r"Latency · \d+\.\d ms", why)
    assert "λ = 0.70 picked 5" in why
    assert re.search(r'class="lk-grid" data-count="5" data-ranking-id="[^"]+"', grid)
    assert "Served by experiment" not in why  # none runs on this API


def test_random_and_find_pick_real_products(actions: Actions) -> None:
    product_id, query, grid, _ = actions.random(SHOPPER, *CONTROLS)
    assert product_id and len(card_ids(grid)) == 5
    assert f'data-query-id="{product_id}"' in query
    picker = actions.find(" shirt ")
    assert picker.choices and all("#" in str(label) for label, _ in picker.choices)
    assert "products match 'shirt': choose one" in str(picker.info)
    nothing = actions.find("zzzznothing")
    assert (nothing.choices, nothing.info) == ([], "No product name contains 'zzzznothing'.")


def test_compare_shows_one_row_per_model(actions: Actions) -> None:
    html = actions.compare(SAMPLE_ID, ["resnet", "hybrid"], *CONTROLS)
    assert re.findall(r'data-model="(\w+)"', html) == ["resnet", "hybrid"]
    assert len(card_ids(html)) == 10
    assert "Tick at least one model" in actions.compare(SAMPLE_ID, [], *CONTROLS)


def test_search_by_text_and_photo(
    actions: Actions, client: LookalikeClient, tmp_path: Path
) -> None:
    grid, why = actions.search_text("black watch", "clip", 0.7, 4)
    assert len(card_ids(grid)) == 4
    assert "lk-badge" not in grid
    assert "Exact category match" not in why and "Intra-list diversity@4" in why
    photo = tmp_path / "upload.png"
    photo.write_bytes(client.image(SAMPLE_ID)[0])
    grid, _ = actions.search_photo(str(photo), "clip", 1.0, 3)
    assert SAMPLE_ID in card_ids(grid)


def test_status_lists_the_served_models(actions: Actions) -> None:
    line, table = actions.status()
    assert "ready" in line and "not ready" not in line
    assert table.count("<tr>") >= 5


def test_unknown_product_explains_itself(actions: Actions) -> None:
    _, query, grid, why = actions.recommend("999999999", SHOPPER, *CONTROLS)
    assert 'role="alert"' in grid and "no product with id" in grid
    assert query == why == ""


def test_empty_inputs_prompt_instead_of_failing(actions: Actions) -> None:
    assert "Pick a product" in actions.recommend(None, SHOPPER, *CONTROLS)[2]
    assert "Pick a product" in actions.compare("", ["clip"], *CONTROLS)
    assert "Describe what you look for" in actions.search_text(" ", "clip", 0.7, 5)[0]
    assert "Upload a photo" in actions.search_photo(None, "clip", 0.7, 5)[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.recommend(SAMPLE_ID, SHOPPER, *CONTROLS)[2],
        lambda a: a.random(SHOPPER, *CONTROLS)[2],
        lambda a: a.compare(SAMPLE_ID, ["clip"], *CONTROLS),
        lambda a: a.search_text("red dress", "clip", 0.7, 5)[0],
        lambda a: a.status()[0],
    ],
    ids=["recommend", "random", "compare", "search", "status"],
)
def test_api_down_is_a_banner_with_the_fix(
    down_client: LookalikeClient, call: Callable[[Actions], Any]
) -> None:
    html = call(Actions(down_client))
    assert 'role="alert"' in html
    assert f"Cannot reach the Lookalike API at {down_client.base_url}" in html
    assert "lookalike serve" in html and "Traceback" not in html


def test_api_down_while_finding_shows_under_the_picker(down_client: LookalikeClient) -> None:
    picker = Actions(down_client).find("shirt")
    assert picker.choices == []
    assert f"Cannot reach the Lookalike API at {down_client.base_url}" in str(picker.info)
