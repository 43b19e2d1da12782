"""List metrics and HTML rendering: numbers shown as the API gave them, text always escaped."""

from __future__ import annotations

from typing import Any

import pytest

from service.schemas import CategoryMode, Parameters, Recommendation, Timings
from ui.explain import list_metrics
from ui.views import error_banner, result_grid, why_panel

TIMINGS = Timings(recall_ms=3.0, mmr_ms=1.0, rerank_ms=0.5, total_ms=4.5)


def rec(product_id: str, match: bool, similarity: float, **attributes: str) -> Recommendation:
    """A result as the API returns it."""
    values: dict[str, Any] = {
        "articleType": "Shirts",
        "baseColour": "Blue",
        "gender": "Men",
        **attributes,
    }
    return Recommendation(
        product_id=product_id,
        score=0.9,
        ann_score=0.8,
        category_similarity=similarity,
        category_match=match,
        mmr_rank=1,
        recall_rank=1,
        name=f"Product {product_id}",
        image_url=f"/products/{product_id}/image",
        **values,
    )


def params(mode: CategoryMode = "soft") -> Parameters:
    return Parameters(
        model="hybrid",
        top_k=3,
        lambda_diversity=0.7,
        candidates=50,
        category_mode=mode,
        w_sim=0.6,
        w_cat=0.4,
        filters={"gender": "Men"},
    )


def test_category_metrics_at_k() -> None:
    results = [rec("1", True, 1.0), rec("2", False, 0.5), rec("3", True, 1.0), rec("4", False, 0.3)]
    metrics = list_metrics(results, 0.25)
    assert (metrics.k, metrics.matches, metrics.match_rate) == (4, 2, 0.5)
    assert metrics.mean_category_similarity == pytest.approx(0.7)
    assert list_metrics([], 0.0).match_rate == 0.0
    assert metrics.diversity == 0.25


def test_cards_show_badges_and_scores() -> None:
    html = result_grid([rec("1", True, 1.0), rec("2", False, 0.42)])
    assert html.count('class="lk-card"') == 2
    assert html.count("Same category") == 1 and html.count("Related category") == 1
    assert "<dd>0.420</dd>" in html and "<dd>0.900</dd>" in html
    assert 'src="products/2/image"' in html


def test_text_from_the_catalogue_is_escaped() -> None:
    html = result_grid([rec("1", True, 1.0, articleType="<script>alert(1)</script>")])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in error_banner("<b>boom</b>")


def test_why_panel_explains_each_stage() -> None:
    results = [rec("1", True, 1.0), rec("2", False, 0.5)]
    html = why_panel(results, TIMINGS, params(), 0.42, "Shirts")
    assert "1/2 · 50%" in html and "0.750" in html
    assert "Intra-list diversity@2" in html and ">0.42<" in html
    assert "Latency · 4.5 ms" in html and "recall 3.0 ms · MMR 1.0 ms · re-rank 0.5 ms" in html
    assert "the 50 nearest neighbours" in html and "filters: gender = Men" in html
    assert "sorted by score = 0.6·ANN + 0.4·category similarity" in html
    assert "only Shirts recalled" in why_panel(results, TIMINGS, params("hard"), 0.42, "Shirts")
    assert "MMR order kept" in why_panel(results, TIMINGS, params("off"), 0.42, "Shirts")
    assert "no article type" in why_panel(results, TIMINGS, params(), 0.42, None)


def test_empty_results_suggest_what_to_change() -> None:
    assert "loosen the filters" in result_grid([])


def test_a_grid_names_its_list_and_the_arm_that_served_it() -> None:
    html = result_grid([rec("1", True, 1.0)], ranking_id='r-1"<')
    assert 'data-ranking-id="r-1&quot;&lt;"' in html
    assert "data-ranking-id" not in result_grid([rec("1", True, 1.0)])
    why = why_panel([rec("1", True, 1.0)], TIMINGS, params(), 0.4, experiment="lam", arm="b")
    assert 'data-experiment="lam" data-arm="b"' in why and "Served by experiment <b>lam</b>" in why
    assert "Served by" not in why_panel([rec("1", True, 1.0)], TIMINGS, params(), 0.4)
