"""The learned ranker in the UI: the ranker picker, each result's top feature contributions in
'Why these results?' and the model's metrics on the Experiments tab; rendered from answers
shaped like the API's, then end to end against a model trained on simulated traffic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from service.schemas import Contribution, Recommendation
from tests.api import test_ranker as api_ranker
from tests.ui.conftest import SAMPLE_ID, until
from tests.ui.test_actions import CONTROLS, card_ids
from tests.ui.test_views import TIMINGS, params, rec
from ui.actions import Actions
from ui.client import LookalikeClient
from ui.experiments import ExperimentActions
from ui.guide import NO_RANKER
from ui.ranker import ranker_note, ranker_picker, ranker_summary
from ui.shapes import RankerInfo
from ui.views import contributions_table, why_panel

# The ranker tests' API (its own event store, no model at first) and their trained model.
shop = api_ranker.shop
trained = api_ranker.trained
# The sidebar with the learned ranker chosen (CLIP, as the simulated shoppers browse).
LEARNED: tuple[Any, ...] = ("clip", *CONTROLS[1:4], "learned", *CONTROLS[5:])
# A manifest as `lookalike ranker train` writes it (`ranker.train.train_ranker`).
MANIFEST: dict[str, Any] = {
    "version": "20261207T120000-ab12cd",
    "trained_at": "2026-12-07T12:00:00Z",
    "features": ["ann_score", "category_similarity", "popularity_ctr"],
    "position_bias": "feature",
    "trees": 87,
    "window": {
        "from": 1_796_644_800.0,
        "to": 1_796_648_400.0,
        "lists": 4000,
        "clicked_lists": 1234,
        "train_lists": 2720,
        "validation_lists": 480,
        "test_lists": 800,
    },
    "metrics": {
        "ndcg5_learned": 0.6123,
        "ndcg5_served": 0.5401,
        "test_lists_evaluated": 250,
        "position_bias": {"feature": {"validation_ndcg5": 0.6, "test_ndcg5": 0.61}},
    },
    "params": {"objective": "lambdarank"},
}
INFO = msgspec.convert(MANIFEST, RankerInfo)


def learned(product_id: str, score: float, *contributions: tuple[str, float]) -> Recommendation:
    """A result of `ranker=learned`: its learned score and largest feature contributions."""
    return msgspec.structs.replace(
        rec(product_id, True, 1.0),
        score=score,
        ranker_score=score,
        contributions=[Contribution(feature=f, value=v) for f, v in contributions],
    )


def test_why_shows_each_results_largest_contributions_with_their_sign() -> None:
    results = [
        learned("1", 1.25, ("ann_score", 0.5), ("popularity_ctr", -0.125), ("same_<b>", 0.01)),
        learned("2", 0.75, ("shopper_clicks", -0.3), ("ann_score", 0.2), ("position", 0.0)),
    ]
    html = why_panel(results, TIMINGS, msgspec.structs.replace(params(), ranker="learned"), 0.4)
    table = contributions_table(results)
    assert table in html and "Learned ranker · top feature contributions" in table
    first, second = table.split('<tr data-product-id="2">')
    assert "<td>1</td><td>Product 1</td><td>1.250</td>" in first
    assert "<code>ann_score</code> +0.500" in first
    assert (
        'lk-contrib--down" data-feature="popularity_ctr"><code>popularity_ctr</code> -0.125'
        in first
    )
    assert "<code>same_&lt;b&gt;</code> +0.010" in first and "<b>" not in table
    assert "<code>shopper_clicks</code> -0.300" in second and second.count("lk-contrib ") == 3
    assert "scored all 50 candidates" in html and "no category re-rank" in html
    assert "·ANN +" not in html  # the static re-rank did not run


def test_a_static_list_has_no_contributions() -> None:
    results = [rec("1", True, 1.0), rec("2", False, 0.5)]
    assert contributions_table(results) == ""
    html = why_panel(results, TIMINGS, params(), 0.4, "Shirts")
    assert "contributions" not in html and "0.6·ANN + 0.4·category similarity" in html


def test_the_picker_offers_learned_only_with_a_model() -> None:
    without = ranker_picker(None)
    assert ([v for _, v in without.choices], without.value) == (["static"], "static")
    assert without.interactive is False
    assert "`lookalike simulate`" in NO_RANKER and "`lookalike ranker train`" in NO_RANKER
    assert ranker_note(None) == NO_RANKER
    offered = ranker_picker(INFO)
    assert [v for _, v in offered.choices] == ["static", "learned"] and offered.interactive
    note = ranker_note(INFO)
    assert "`20261207T120000-ab12cd`" in note
    assert "NDCG@5 0.612 against 0.540 for the served order on 250 held-out lists" in note


def test_the_summary_shows_ndcg_learned_vs_served_window_and_version() -> None:
    html = ranker_summary(INFO)
    assert 'data-version="20261207T120000-ab12cd"' in html and "87 trees" in html
    assert "<th>NDCG@5 learned</th><td>0.612</td>" in html
    assert "<th>NDCG@5 served order</th><td>0.540</td>" in html
    assert "<th>Difference</th><td>+0.072</td>" in html
    assert "2026-12-07 12:00 UTC – 2026-12-07 13:00 UTC · 4,000 lists, 1,234 clicked" in html
    assert "2,720 train, 480 validation, 800 held-out test" in html
    assert "<code>popularity_ctr</code>" in html and "<td>feature</td>" in html
    assert NO_RANKER in ranker_summary(None)


@pytest.fixture(scope="module")
def shop_client(shop: api_ranker.Shop) -> Iterator[LookalikeClient]:
    """A UI client of the ranker tests' API."""
    with LookalikeClient(str(shop.http.base_url)) as api:
        yield api


def test_without_a_model_learned_is_not_offered_and_both_tabs_say_how_to_train(
    shop_client: LookalikeClient,
) -> None:
    assert shop_client.ranker() is None
    picker, note = Actions(shop_client).ranker()
    assert [v for _, v in picker.choices] == ["static"] and picker.interactive is False
    assert note == NO_RANKER
    assert NO_RANKER in ExperimentActions(shop_client).ranker()
    # A page that asks for it anyway (opened while a model was served): the 409 explained.
    _, _, grid, why = Actions(shop_client).recommend(SAMPLE_ID, "ui-stale", *LEARNED)
    assert "lookalike ranker train" in grid and 'role="alert"' in grid and why == ""


@pytest.mark.slow
def test_a_trained_model_is_offered_explained_and_summarised(
    shop_client: LookalikeClient, trained: dict[str, Any]
) -> None:
    info = until(shop_client.ranker, lambda i: i is not None and i.version == trained["version"])
    assert info is not None and info.metrics.ndcg5_learned == trained["metrics"]["ndcg5_learned"]
    assert info.window.start == trained["window"]["from"] and info.features == trained["features"]
    picker, note = Actions(shop_client).ranker()
    assert [v for _, v in picker.choices] == ["static", "learned"] and picker.interactive
    assert f"NDCG@5 {info.metrics.ndcg5_learned:.3f} against" in note

    _, _, grid, why = Actions(shop_client).recommend(SAMPLE_ID, "sim-1", *LEARNED)
    assert "Learned ranker</b>: a model trained on shoppers' clicks" in why
    names = {*trained["features"], "position"}
    for product_id in card_ids(grid):
        row = re.search(rf'<tr data-product-id="{product_id}">(.*?)</tr>', why)
        assert row, f"no contributions for card {product_id}"
        shown = re.findall(r"<code>([^<]+)</code> ([+-]\d+\.\d{3})", row.group(1))
        assert len(shown) == 3 and {name for name, _ in shown} <= names

    summary = ExperimentActions(shop_client).ranker()
    assert f'data-version="{trained["version"]}"' in summary
    assert f"<th>NDCG@5 learned</th><td>{info.metrics.ndcg5_learned:.3f}</td>" in summary
    assert f"<th>NDCG@5 served order</th><td>{info.metrics.ndcg5_served:.3f}</td>" in summary
    assert f"{trained['window']['lists']:,} lists" in summary
