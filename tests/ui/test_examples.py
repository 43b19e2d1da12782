"""'More like these' and 'For you': the thumbs' examples, and both lists from the real API."""

from __future__ import annotations

import re

import gradio as gr
from playwright.sync_api import Page, expect

from service.schemas import Recommendation
from tests.ui.conftest import EVENTS_KEY, SAMPLE_ID, ui_in_thread
from tests.ui.test_actions import CONTROLS, SHOPPER, card_ids
from tests.ui.test_browser import browser, page  # noqa: F401  (the browser fixtures)
from ui.client import LookalikeClient, Tuning
from ui.examples import NO_HISTORY, NO_VOTES, ExampleActions, voted
from ui.views import result_card


def vote(product_id: str, way: str) -> gr.EventData:
    return gr.EventData(None, {"product_id": product_id, "vote": way})


def test_thumbs_build_the_examples() -> None:
    positive, negative = voted([], [], vote("1", "up"))
    positive, negative = voted(positive, negative, vote("2", "down"))
    assert (positive, negative) == (["1"], ["2"])
    assert voted(positive, negative, vote("2", "up")) == (["1", "2"], [])  # moved over
    assert voted(positive, negative, vote("1", "up")) == ([], ["2"])  # the same vote undoes


def test_more_like_these_asks_the_api(client: LookalikeClient) -> None:
    actions = ExampleActions(client)
    assert NO_VOTES in actions.more_like_these([], [], SHOPPER, *CONTROLS)
    html = actions.more_like_these([SAMPLE_ID], ["39386"], SHOPPER, *CONTROLS)
    served = client.recommend_examples([SAMPLE_ID], ["39386"], Tuning(model="hybrid"), SHOPPER)
    assert card_ids(html) == [r.product_id for r in served.results]
    assert 'data-up="15970"' in html and 'data-down="39386"' in html
    assert f"closest to #{SAMPLE_ID}" in html and "to the 👎" in html
    assert NO_HISTORY in actions.for_you("ui-never-clicked", *CONTROLS)


def test_every_card_has_thumbs() -> None:
    item = Recommendation(
        product_id="1", score=0.5, ann_score=0.5, category_similarity=1.0, category_match=True,
        mmr_rank=1, recall_rank=1, name="x", articleType="Shirts", baseColour="Blue",
        gender="Men", image_url=None,
    )  # fmt: skip
    html = result_card(item, 1)
    assert 'data-vote="up"' in html and 'data-vote="down"' in html
    assert "closest to" not in html  # a one-product list names no example


def test_thumbs_update_more_like_these_and_a_click_fills_for_you(
    page: Page,  # noqa: F811
    writable_api: str,
) -> None:
    with LookalikeClient(writable_api) as api, ui_in_thread(writable_api, EVENTS_KEY) as url:
        page.goto(url)
        cards = page.locator("#results .lk-card")
        expect(cards).to_have_count(5)
        expect(page.locator("#more-like-these")).to_contain_text("Press 👍")
        liked = cards.nth(0).get_attribute("data-product-id")
        disliked = cards.nth(2).get_attribute("data-product-id")
        assert liked and disliked
        cards.nth(0).locator('[data-vote="up"]').click()
        more = page.locator("#more-like-these")
        expect(more.locator(f'[data-up="{liked}"]')).to_have_count(1)
        cards.nth(2).locator('[data-vote="down"]').click()
        expect(more.locator(f'[data-down="{disliked}"]')).to_have_count(1)
        tuning = Tuning(model="hybrid")
        expected = api.recommend_examples([liked], [disliked], tuning).results
        shown = more.locator(".lk-card")
        expect(shown).to_have_count(len(expected))
        expect(shown.first).to_have_attribute("data-product-id", expected[0].product_id)
        # The vote did not navigate: the query is still the arrival's product.
        expect(page.locator("#query .lk-query")).not_to_have_attribute("data-query-id", liked)

        page.locator("#for-you-refresh").click()
        expect(page.locator("#for-you")).to_contain_text("Click a product first")
        cards.nth(1).click()  # a click event for this session's shopper
        page.locator("#for-you-refresh").click()
        expect(page.locator("#for-you .lk-card")).to_have_count(5)
        expect(page.locator("#for-you")).to_contain_text(
            re.compile(r"1 events of this session: click #\d+")
        )
