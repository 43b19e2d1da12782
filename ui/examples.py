"""'More like these' (thumbs up / down on cards build its examples) and 'For you' (the
session's shopper's own events), both asked of the REST API."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.actions import tuning
from ui.client import ApiError, LookalikeClient
from ui.views import error_banner, examples_strip, notice, result_grid

NO_VOTES = "Press 👍 or 👎 on any card: the products you like and dislike build this list."
NO_HISTORY = "Click a product first: this list is made from what this session clicked."


def voted(
    positive: list[str], negative: list[str], evt: gr.EventData
) -> tuple[list[str], list[str]]:
    """The examples after a vote on a card: a product is in one list at most; voting the same
    way again takes it out."""
    product = str(getattr(evt, "product_id", "") or "")
    up = getattr(evt, "vote", "") == "up"
    if not product:
        return positive, negative
    mine, other = (positive, negative) if up else (negative, positive)
    other = [p for p in other if p != product]
    mine = [p for p in mine if p != product] if product in mine else [*mine, product]
    return (mine, other) if up else (other, mine)


class ExampleActions:
    """The handlers of both panels, bound to one API client."""

    def __init__(self, client: LookalikeClient) -> None:
        self.client = client

    def more_like_these(
        self, positive: list[str], negative: list[str], user_id: str | None, *controls: Any
    ) -> str:
        """The examples and their list (`POST /recommend`, best_score: negatives alone work)."""
        if not positive and not negative:
            return notice(NO_VOTES)
        try:
            served = self.client.recommend_examples(positive, negative, tuning(*controls), user_id)
        except ApiError as exc:
            return examples_strip(positive, negative) + error_banner(str(exc))
        grid = result_grid(served.results, ranking_id=served.ranking_id)
        return examples_strip(positive, negative) + grid

    def for_you(self, user_id: str | None, *controls: Any) -> str:
        """The list of this session's shopper (`GET /recommend/for-you`), once it clicked."""
        if not user_id:
            return notice(NO_HISTORY)
        try:
            served = self.client.for_you(user_id, tuning(*controls))
        except ApiError as exc:
            return error_banner(str(exc))
        if served is None:
            return notice(NO_HISTORY)
        used = f"{len(served.events)} events of this session: " + ", ".join(
            f"{e.type} #{e.product_id}" for e in served.events[:5]
        )
        return f'<p class="lk-for-you-used">{used}</p>' + result_grid(
            served.results, ranking_id=served.ranking_id
        )
