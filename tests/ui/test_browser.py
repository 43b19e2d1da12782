"""End to end in a real browser: Debian's chromium drives `lookalike ui` served against the API."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from service.schemas import Recommendation
from tests.api.live import API_KEY
from tests.conftest import SHARED
from tests.ui.conftest import (
    AB_ARMS,
    EVENTS_KEY,
    REPO,
    SAMPLE_ID,
    experiment,
    ui_in_thread,
    until,
)
from ui.client import LookalikeClient, Tuning
from ui.guide import MODELS

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The README's screenshot is refreshed on request (LOOKALIKE_UPDATE_SCREENSHOT=1), so a test run
# leaves the checkout clean; otherwise the picture goes to the test's temporary folder.
README_SCREENSHOT = REPO / "docs/screenshots/ui.png"
TIMEOUT_MS = 30_000  # generous: the machine may be busy training models
expect.set_options(timeout=TIMEOUT_MS)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def expect_cards(cards: Locator, results: list[Recommendation], with_category: bool) -> None:
    """The cards show the API's results: same products, order, scores and category badges."""
    expect(cards).to_have_count(len(results))
    for card, result in zip(cards.all(), results, strict=True):
        expect(card).to_have_attribute("data-product-id", result.product_id)
        scores = [result.score, result.ann_score]
        if with_category:
            badge = "Same category" if result.category_match else "Related category"
            expect(card.locator(".lk-badge")).to_have_text(badge)
            scores.append(result.category_similarity)
        expect(card.locator(".lk-scores dd")).to_have_text([f"{s:.3f}" for s in scores])


def expect_results(page: Page, client: LookalikeClient, product_id: str, tuning: Tuning) -> None:
    """The query, gallery and 'why' panel show the API's answer for `product_id` and `tuning`."""
    results = client.recommend(product_id, tuning).results
    expect(page.locator("#query .lk-query")).to_have_attribute("data-query-id", product_id)
    expect_cards(page.locator("#results .lk-card"), results, with_category=True)
    why = page.locator("#why")
    expect(why).to_contain_text(f"in {MODELS[tuning.model][0]} space")
    expect(why).to_contain_text(f"λ = {tuning.lambda_diversity:.2f} picked {tuning.top_k}")


def set_slider(page: Page, elem_id: str, value: float) -> None:
    """Type a value in a slider's number box and leave it: Gradio's 'release'."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


def test_merchandiser_tunes_and_browses(
    page: Page, ui_url: str, client: LookalikeClient, tmp_path: Path
) -> None:
    page.goto(ui_url)
    expect(page.locator("#api-status")).to_contain_text("ready · ")
    expect(page.locator("#results .lk-card")).to_have_count(5)  # a random product on arrival

    page.locator("#product-id textarea").fill(SAMPLE_ID)
    page.locator("#product-id textarea").press("Enter")
    tuning = Tuning(model="hybrid", top_k=5, lambda_diversity=0.7)
    expect_results(page, client, SAMPLE_ID, tuning)
    expect(page.locator("#query")).to_contain_text("Apparel › Topwear › Shirts")
    expect(page.locator("#results img").first).to_have_js_property("complete", True)
    assert page.locator("#results img").first.evaluate("img => img.naturalWidth") > 0

    set_slider(page, "lambda", 0.3)
    tuning = Tuning(model="hybrid", top_k=5, lambda_diversity=0.3)
    expect_results(page, client, SAMPLE_ID, tuning)

    page.locator("#model label", has_text="CLIP · exploratory").click()
    tuning = Tuning(model="clip", top_k=5, lambda_diversity=0.3)
    expect_results(page, client, SAMPLE_ID, tuning)
    expect(page.locator("#model-note")).to_contain_text("Use to inspire")
    update = os.environ.get("LOOKALIKE_UPDATE_SCREENSHOT") == "1"
    screenshot = README_SCREENSHOT if update else tmp_path / "ui.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 10_000

    set_slider(page, "top-k", 8)
    tuning = Tuning(model="clip", top_k=8, lambda_diversity=0.3)
    expect_results(page, client, SAMPLE_ID, tuning)

    clicked = page.locator("#results .lk-card").nth(1)
    next_id = clicked.get_attribute("data-product-id")
    assert next_id
    clicked.click()
    expect_results(page, client, next_id, tuning)

    page.get_by_role("tab", name="Compare models").click()
    expect(page.locator("#comparison .lk-row")).to_have_count(4)
    expect(page.locator("#comparison .lk-card")).to_have_count(4 * 8)

    page.get_by_role("tab", name="Search by text or photo").click()
    photo = tmp_path / "shirt.png"
    photo.write_bytes(client.image(SAMPLE_ID)[0])
    page.locator("#search-photo input[type=file]").set_input_files(photo)
    found = client.search_image(photo.read_bytes(), photo.name, tuning).results
    expect_cards(page.locator("#search-results .lk-card"), found, with_category=False)
    page.locator("#search-text textarea").fill("black leather belt")
    page.locator("#search-text textarea").press("Enter")
    found = client.search_text("black leather belt", tuning).results
    expect_cards(page.locator("#search-results .lk-card"), found, with_category=False)


def test_api_down_page_says_how_to_fix_it(page: Page, down_url: str) -> None:
    with ui_in_thread(down_url) as url:
        page.goto(url)
        expect(page.locator("#api-status [role=alert]")).to_contain_text(
            f"Cannot reach the Lookalike API at {down_url}"
        )
        expect(page.locator("#results [role=alert]")).to_contain_text("lookalike serve")


def test_merchandiser_adds_edits_and_deletes_a_product(page: Page, writable_api: str) -> None:
    new_id = "9200001"
    with ui_in_thread(writable_api) as url:
        page.goto(url)
        expect(page.locator("#results .lk-card")).to_have_count(5)
        page.get_by_role("tab", name="Manage catalogue").click()
        page.locator("#api-key input").fill(API_KEY)
        page.locator("#manage-photo input[type=file]").set_input_files(
            str(SHARED / "images" / f"{SAMPLE_ID}.jpg")
        )
        page.locator("#manage-id textarea").fill(new_id)
        page.locator("#manage-name textarea").fill("Navy check shirt, new arrival")
        page.locator("#manage-articleType textarea").fill("Shirts")
        page.locator("#manage-add").click()
        # The new product becomes the query; its nearest neighbour is its own twin.
        expect(page.locator("#query .lk-query")).to_have_attribute("data-query-id", new_id)
        expect(page.locator("#results .lk-card").first).to_have_attribute(
            "data-product-id", SAMPLE_ID
        )
        page.get_by_role("tab", name="Manage catalogue").click()
        expect(page.locator("#manage-status")).to_contain_text(f"Added product {new_id}")
        # Empty the name first, so the check below waits for the loaded product, and the rename
        # is not overwritten by a load still on its way.
        page.locator("#manage-name textarea").fill("")
        page.locator("#manage-load").click()
        expect(page.locator("#manage-name textarea")).to_have_value("Navy check shirt, new arrival")
        page.locator("#manage-name textarea").fill("Navy check shirt, renamed")
        page.locator("#manage-save").click()
        expect(page.locator("#manage-status")).to_contain_text(f"Saved product {new_id}")
        expect(page.locator("#query")).to_contain_text("Navy check shirt, renamed")
        page.locator("#manage-delete").click()
        expect(page.locator("#manage-status")).to_contain_text(f"Deleted product {new_id}")
        page.locator("#api-key input").fill("wrong")
        page.locator("#manage-add").click()
        expect(page.locator("#manage-status [role=alert]")).to_contain_text("API key")


def test_a_card_click_is_a_click_event_and_the_experiments_tab_shows_it(
    page: Page, writable_api: str, tmp_path: Path
) -> None:
    with (
        LookalikeClient(writable_api) as api,
        experiment(writable_api, "ui-browser", AB_ARMS) as name,
        ui_in_thread(writable_api, events_key=EVENTS_KEY) as url,
    ):
        page.goto(url)
        cards = page.locator("#results .lk-card")
        expect(cards).to_have_count(5)  # a random product, served to this session's shopper
        expect(page.locator("#results .lk-grid")).to_have_attribute(
            "data-ranking-id", re.compile(".+")
        )
        expect(page.locator("#why .lk-served")).to_have_attribute("data-experiment", name)
        clicked = cards.nth(1).get_attribute("data-product-id")
        assert clicked
        cards.nth(1).click()
        expect(page.locator("#query .lk-query")).to_have_attribute("data-query-id", clicked)

        # One shopper for the session, two lists (arrival and the click), one click kept.
        result = until(
            lambda: api.experiment(name),
            lambda r: sum(a.lists for a in r.arms) >= 2 and sum(a.clicks for a in r.arms) >= 1,
        )
        assert [sum(a.users for a in result.arms), sum(a.clicks for a in result.arms)] == [1, 1]
        expect(page.locator("#event-status")).not_to_contain_text("not recorded")
        arm = next(a for a in result.arms if a.clicks)
        assert arm.lists_clicked == 1 and arm.ctr == 1 / arm.lists

        page.get_by_role("tab", name="Experiments").click()
        expect(page.locator("#experiment-head")).to_contain_text(f"{name} · A/B test · running")
        rows = page.locator("#experiment-table tr[data-arm]")
        expect(rows).to_have_count(2)
        cells = page.locator(f'#experiment-table tr[data-arm="{arm.name}"] td')
        # Arm, weight, users, lists, lists clicked, clicks: as the API counted them.
        expect(cells.nth(3)).to_have_text(str(arm.lists))
        expect(cells.nth(5)).to_have_text("1")
        plot = page.locator("#experiment-plot img")
        expect(plot).to_be_visible()
        assert plot.evaluate("img => img.naturalWidth") > 100
        expect(page.locator("#experiment-head [role=alert]")).to_have_count(0)
        page.screenshot(path=tmp_path / "experiments.png", full_page=True)
