"""The Experiments tab and click reporting: views from hand-made results, actions against a real
API running an experiment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import gradio as gr
import msgspec
import pytest
from matplotlib.collections import LineCollection

from api.controllers.events import EventsTaken as ApiEventsTaken
from api.controllers.experiments import ExperimentSummary
from experiments import stats
from tests.ui.conftest import AB_ARMS, EVENTS_KEY, SAMPLE_ID, experiment, until
from tests.ui.test_actions import CONTROLS, SHOPPER
from ui.actions import Actions, new_shopper
from ui.client import LookalikeClient, Tuning
from ui.experiments import (
    NO_EXPERIMENTS,
    ExperimentActions,
    arm_table,
    ctr_figure,
    experiment_choices,
    experiment_head,
    p_text,
    srm_warning,
)
from ui.shapes import (
    ArmResult,
    EventsTaken,
    ExperimentListed,
    ExperimentResult,
    Rejected,
)


def arm(name: str, lists: int, clicked: int, **values: Any) -> ArmResult:
    """An arm as the API answers it, CTR interval given by hand."""
    fields: dict[str, Any] = {
        "weight": 1.0,
        "overrides": {},
        "users": lists // 2,
        "clicks": clicked + 3,
        "add_to_carts": 2,
        "purchases": 1,
        "ctr": clicked / lists if lists else None,
        "ctr_ci": None,
        "lift": None,
        "lift_ci": None,
        "p_value": None,
        **values,
    }
    return ArmResult(name=name, lists=lists, lists_clicked=clicked, **fields)


def result(*arms: ArmResult, srm: float | None = 0.5, **values: Any) -> ExperimentResult:
    fields: dict[str, Any] = {"design": "ab", "status": "running", "stopped_at": None, **values}
    return ExperimentResult(
        name="lambda-test", started_at=1_796_644_800.0, arms=list(arms), srm_p_value=srm, **fields
    )


AB = result(
    arm("control", 1000, 40, ctr_ci=[0.0295, 0.0541]),
    arm(
        "diverse",
        1000,
        50,
        overrides={"lambda_diversity": 0.3},
        ctr_ci=[0.0381, 0.0655],
        lift=0.25,
        lift_ci=[-0.18, 0.89],
        p_value=0.2923,
    ),
)


@pytest.mark.parametrize(
    "shape, api_shape",
    [
        (ExperimentResult, stats.ExperimentResult),
        (ArmResult, stats.ArmResult),
        (ExperimentListed, ExperimentSummary),
        (EventsTaken, ApiEventsTaken),
    ],
)
def test_the_ui_shapes_mirror_the_api(shape: type, api_shape: type) -> None:
    def described(struct: type) -> list[tuple[str, str]]:
        return [(f.name, str(f.type)) for f in msgspec.structs.fields(struct)]

    assert [name for name, _ in described(shape)] == [name for name, _ in described(api_shape)]


def test_p_values_read_as_written() -> None:
    assert [p_text(None), p_text(0.0004), p_text(0.04321)] == ["—", "< 0.001", "0.043"]


def test_table_shows_counts_ctr_lift_and_p_value() -> None:
    html = arm_table(AB)
    assert html.count("<tr data-arm=") == 2
    control, diverse = html.split('<tr data-arm="diverse">')
    assert "<td>1,000</td><td>40</td><td>43</td><td>2</td><td>1</td>" in control
    assert '4.00 % <span class="lk-ci">[2.95, 5.41]</span>' in control
    assert "<td>baseline</td>" in control and "request's own settings" in control
    assert "lambda_diversity = 0.3" in diverse
    assert '+25.00 % <span class="lk-ci">[-18.00, +89.00]</span>' in diverse
    assert "<td>0.292</td>" in diverse
    assert "Interleaving" not in html


def test_interleaving_adds_wins_losses_ties_and_the_sign_test() -> None:
    interleaved = result(*AB.arms, design="interleave", wins=30, losses=12, ties=958, p_value=0.008)
    html = arm_table(interleaved)
    assert "<b>diverse</b> won 30 lists, lost 12 and tied 958 against <b>control</b>" in html
    assert "sign test p = 0.008" in html
    assert "interleaving · running since 2026-12-07 12:00 UTC" in experiment_head(interleaved)


def test_sample_ratio_mismatch_is_a_warning_not_to_trust_the_result() -> None:
    skewed = result(arm("control", 1200, 40), arm("diverse", 800, 40), srm=2.6e-19)
    warning = srm_warning(skewed)
    assert 'role="alert"' in warning and "do not trust this result" in warning
    assert "(p = &lt; 0.001)" in warning
    assert "control 1,200 lists (weight 1), diverse 800 lists (weight 1)" in warning
    assert warning in experiment_head(skewed)
    assert srm_warning(result(*skewed.arms, srm=0.011)) == ""
    assert srm_warning(result(*skewed.arms, srm=None)) == ""
    assert "sample-ratio check p = 0.500" in experiment_head(AB)


def test_ctr_plot_has_each_arms_interval_as_error_bars() -> None:
    figure = ctr_figure(AB)
    assert figure is not None
    axes = figure.axes[0]
    assert list(cast(Any, axes.lines[0].get_ydata())) == pytest.approx([4.0, 5.0])
    bars = cast(LineCollection, axes.collections[0]).get_segments()
    assert [tuple(s[:, 1]) for s in bars] == [
        pytest.approx((2.95, 5.41)),
        pytest.approx((3.81, 6.55)),
    ]
    assert [t.get_text() for t in axes.get_xticklabels()] == [
        "control\n1,000 lists",
        "diverse\n1,000 lists",
    ]
    assert ctr_figure(result(arm("control", 0, 0), arm("diverse", 0, 0))) is None


class NoExperiments:
    """A client of an API where nobody has started an experiment."""

    def experiments(self) -> list[ExperimentListed]:
        return []


def test_no_experiments_is_an_empty_state() -> None:
    picker, head, plot, table = ExperimentActions(cast(LookalikeClient, NoExperiments())).refresh(
        None
    )
    assert (picker.choices, picker.value, plot, table) == ([], None, None, "")
    assert "No experiments yet" in head and "PUT /experiments/{name}" in NO_EXPERIMENTS


@pytest.fixture(scope="module")
def keyed(writable_api: str) -> Iterator[LookalikeClient]:
    """A client of the writable API that sends its events key."""
    with LookalikeClient(writable_api, events_key=EVENTS_KEY) as api:
        yield api


def clicked(product_id: str, ranking_id: str) -> gr.EventData:
    """What OPEN_CARD_JS sends when a card of the list `ranking_id` is clicked."""
    return gr.EventData(None, {"product_id": product_id, "ranking_id": ranking_id})


def test_session_lists_and_clicks_reach_the_experiment(keyed: LookalikeClient) -> None:
    actions, tab = Actions(keyed), ExperimentActions(keyed)
    with experiment(keyed.base_url, "ui-actions", AB_ARMS) as name:
        shopper = new_shopper()
        _, _, grid, why = actions.recommend(SAMPLE_ID, shopper, *CONTROLS)
        assert f'data-experiment="{name}"' in why and "Served by experiment" in why
        served = keyed.recommend(SAMPLE_ID, Tuning(), shopper)
        assert (served.experiment, f'data-arm="{served.arm}"' in why) == (name, True)
        assert (
            actions.click(shopper, clicked(served.results[0].product_id, served.ranking_id)) == ""
        )

        counted = until(
            lambda: keyed.experiment(name),
            lambda r: sum(a.lists for a in r.arms) == 2 and sum(a.clicks for a in r.arms) == 1,
        )
        assert sum(a.users for a in counted.arms) == 1  # sticky: one shopper, one arm
        assert "data-ranking-id" in grid
        picker, head, plot, table = tab.refresh("gone-by-now")
        assert picker.value == name and (name, name) in [(v, v) for _, v in picker.choices]
        assert "A/B test · running since" in head and 'role="alert"' not in head
        assert plot is not None and table.count("<tr data-arm=") == 2
        assert "request's own settings" in table and "lambda_diversity = 0.3" in table
        assert "could not be shown" in tab.show("no-such-experiment")[0]


def test_a_refused_or_failed_click_is_a_small_note(
    keyed: LookalikeClient, writable_api: str, down_client: LookalikeClient
) -> None:
    note = Actions(keyed).click(SHOPPER, clicked(SAMPLE_ID, "no-such-list"))
    assert "Your click was not recorded" in note and "unknown ranking_id" in note
    with LookalikeClient(writable_api) as keyless:  # the server wants LOOKALIKE_EVENTS_KEY
        served = keyless.recommend(SAMPLE_ID, Tuning())
        note = Actions(keyless).click(
            SHOPPER, clicked(served.results[0].product_id, served.ranking_id)
        )
    assert "not recorded" in note and 'role="status"' in note
    note = Actions(down_client).click(SHOPPER, clicked(SAMPLE_ID, "abc"))
    assert "Cannot reach the Lookalike API" in note
    assert Actions(down_client).click(SHOPPER, gr.EventData(None, {"product_id": "1"})) == ""


def test_receipts_decode(keyed: LookalikeClient) -> None:
    served = keyed.search_text("black watch", Tuning(top_k=3), SHOPPER)
    event = {
        "type": "add_to_cart",
        "ranking_id": served.ranking_id,
        "product_id": served.results[0].product_id,
        "user_id": SHOPPER,
        "event_id": "ui-test-cart-1",
    }
    first = keyed.send_events([event, {**event, "product_id": "1"}])
    assert (first.accepted, first.duplicates) == (1, 0)
    assert first.rejected == [Rejected(index=1, reason=first.rejected[0].reason)]
    assert "was not in list" in first.rejected[0].reason
    assert keyed.send_events([event]).duplicates == 1


def test_picker_names_design_and_status() -> None:
    listed = [
        ExperimentListed(
            name="new", design="interleave", status="running", started_at=2.0, stopped_at=None
        ),
        ExperimentListed(name="old", design="ab", status="stopped", started_at=1.0, stopped_at=1.5),
    ]
    assert experiment_choices(listed) == [
        ("new · interleaving · running", "new"),
        ("old · A/B test · stopped", "old"),
    ]
