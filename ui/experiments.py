"""The "Experiments" tab: each arm's CTR with its 95 % interval, the lift, the tests' p-values
and a warning when the lists per arm do not follow the weights (sample-ratio mismatch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from ui.client import ApiError, LookalikeClient
from ui.ranker import ranker_summary
from ui.shapes import ArmResult, ExperimentListed, ExperimentResult
from ui.views import error_banner, notice, utc_time

# Below this, the lists per arm are too far from the weights for chance: something assigns or
# logs shoppers wrongly, and the comparison is not to be trusted.
SRM_ALPHA = 0.01
NO_EXPERIMENTS = (
    "No experiments yet. Start one over the API: PUT /experiments/{name} with the catalogue "
    'write key and {"design": "ab", "arms": [...]} (see the README); shoppers with a user_id, '
    "this page's included, are then assigned to its arms."
)
# What the tab shows: the heading with its warnings, the CTR plot, the table of arms.
Shown = tuple[str, Any, str]


def p_text(p: float | None) -> str:
    """A p-value as read aloud: three decimals, '< 0.001' below that, '—' when undefined."""
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _percent(value: float | None, interval: list[float] | None, signed: bool = False) -> str:
    """A rate (or a lift) in percent with its 95 % interval."""
    if value is None:
        return "—"
    sign = "+" if signed else ""
    text = f"{100 * value:{sign}.2f} %"
    if interval:
        low, high = (100 * bound for bound in interval)
        text += f' <span class="lk-ci">[{low:{sign}.2f}, {high:{sign}.2f}]</span>'
    return text


def _overrides(arm: ArmResult) -> str:
    if not arm.overrides:
        return "request's own settings"
    return ", ".join(f"{escape(k)} = {escape(str(v))}" for k, v in arm.overrides.items())


def _design(design: str) -> str:
    return "A/B test" if design == "ab" else "interleaving"


def experiment_choices(listed: Sequence[ExperimentListed]) -> list[tuple[str, str]]:
    """The experiment picker's options: name, design and status, newest first."""
    return [(f"{e.name} · {_design(e.design)} · {e.status}", e.name) for e in listed]


def srm_warning(result: ExperimentResult) -> str:
    """A warning when the lists per arm do not follow the arms' weights; "" otherwise."""
    p = result.srm_p_value
    if p is None or p >= SRM_ALPHA:
        return ""
    split = ", ".join(
        f"{escape(a.name)} {a.lists:,} lists (weight {a.weight:g})" for a in result.arms
    )
    return (
        '<div class="lk-error lk-srm" role="alert"><strong>Sample-ratio mismatch '
        f"(p = {escape(p_text(p))}): do not trust this result</strong><p>The arms got {split}: a split "
        "this far from the weights is not chance. Shopper assignment or list logging is "
        "broken (a client without user_id for one arm, lost logs, a bot); fix it and restart "
        "the experiment.</p></div>"
    )


def experiment_head(result: ExperimentResult) -> str:
    """What the experiment is, since when it runs, and the sample-ratio check."""
    if result.status == "running":
        state = f"running since {utc_time(result.started_at)}"
    else:
        state = f"ran {utc_time(result.started_at)} – {utc_time(result.stopped_at or result.started_at)}"
    design = _design(result.design)
    if result.srm_p_value is None:
        srm = "sample-ratio check: no lists yet"
    else:
        srm = f"sample-ratio check p = {escape(p_text(result.srm_p_value))}"
    line = (
        f'<p class="lk-experiment-line" data-experiment="{escape(result.name)}">'
        f"<b>{escape(result.name)}</b> · {design} · {state} · {srm}</p>"
    )
    return line + srm_warning(result)


def ctr_figure(result: ExperimentResult) -> Figure | None:
    """Each arm's CTR with its 95 % interval as error bars; None when no arm has lists yet."""
    plotted = [(a, a.ctr, a.ctr_ci) for a in result.arms if a.ctr is not None and a.ctr_ci]
    if not plotted:
        return None
    figure = Figure(figsize=(6.4, 3.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    x = list(range(len(plotted)))
    ctr = [100 * value for _, value, _ in plotted]
    below = [100 * (value - ci[0]) for _, value, ci in plotted]
    above = [100 * (ci[1] - value) for _, value, ci in plotted]
    axes.errorbar(x, ctr, yerr=[below, above], fmt="o", capsize=8, color="#4f46e5", markersize=7)
    for i, value in enumerate(ctr):
        axes.annotate(
            f"{value:.2f} %",
            (i, value),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    arms = [arm for arm, _, _ in plotted]
    axes.set_xticks(x, [f"{a.name}\n{a.lists:,} lists" for a in arms])
    axes.set_xlim(-0.6, len(arms) - 0.4)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("CTR, % of lists clicked")
    axes.set_title("CTR per arm, 95 % interval", fontsize=11)
    axes.grid(axis="y", alpha=0.3)
    return figure


def _arm_row(arm: ArmResult, first: bool) -> str:
    lift = "baseline" if first else _percent(arm.lift, arm.lift_ci, signed=True)
    cells = (
        f'<td class="lk-arm-name">{escape(arm.name)}<br><small>{_overrides(arm)}</small></td>',
        f"<td>{arm.weight:g}</td>",
        f"<td>{arm.users:,}</td>",
        f"<td>{arm.lists:,}</td>",
        f"<td>{arm.lists_clicked:,}</td>",
        f"<td>{arm.clicks:,}</td>",
        f"<td>{arm.add_to_carts:,}</td>",
        f"<td>{arm.purchases:,}</td>",
        f"<td>{_percent(arm.ctr, arm.ctr_ci)}</td>",
        f"<td>{lift}</td>",
        f"<td>{escape(p_text(arm.p_value))}</td>",
    )
    return f'<tr data-arm="{escape(arm.name)}">{"".join(cells)}</tr>'


def _interleaving(result: ExperimentResult) -> str:
    if result.design != "interleave" or result.wins is None:
        return ""
    first, second = (escape(a.name) for a in result.arms[:2])
    return (
        f'<p class="lk-interleave">Interleaving: <b>{second}</b> won {result.wins:,} lists, '
        f"lost {result.losses or 0:,} and tied {result.ties or 0:,} against <b>{first}</b> "
        f"(a list is won by the arm whose products got more clicks); sign test p = "
        f"{escape(p_text(result.p_value))}.</p>"
    )


def arm_table(result: ExperimentResult) -> str:
    """Every arm's exact counts, CTR with its interval, lift over the first arm and p-value."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Arm",
            "Weight",
            "Users",
            "Lists",
            "Lists clicked",
            "Clicks",
            "Add-to-carts",
            "Purchases",
            "CTR [95 %]",
            "Lift over first [95 %]",
            "p-value",
        )
    )
    rows = "".join(_arm_row(a, i == 0) for i, a in enumerate(result.arms))
    return (
        '<div class="lk-scroll"><table class="lk-models lk-arms">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        f"{_interleaving(result)}"
        '<p class="lk-tile-hint">CTR = lists with a click ÷ lists served (Wilson interval). '
        "Lift and p-value compare each arm with the first (two-proportion z-test); "
        "interleaving credits each click to the arm that contributed the product.</p>"
    )


class ExperimentActions:
    """The tab's handlers: pick an experiment, show its results."""

    def __init__(self, client: LookalikeClient) -> None:
        self.client = client

    def refresh(self, current: str | None) -> tuple[gr.Dropdown, *Shown]:
        """The picker filled from `GET /experiments` (keeping `current` if it still exists)
        and the chosen experiment's results."""
        try:
            listed = self.client.experiments()
        except ApiError as exc:
            failed = error_banner(str(exc), "The experiments could not be listed")
            return gr.Dropdown(choices=[], value=None), failed, None, ""
        if not listed:
            return gr.Dropdown(choices=[], value=None), notice(NO_EXPERIMENTS), None, ""
        names = [e.name for e in listed]
        chosen = current if current in names else names[0]
        picker = gr.Dropdown(choices=experiment_choices(listed), value=chosen)
        return (picker, *self.show(chosen))

    def show(self, name: str | None) -> Shown:
        """One experiment's heading and warnings, CTR plot and table of arms."""
        if not name:
            return notice(NO_EXPERIMENTS), None, ""
        try:
            result = self.client.experiment(name)
        except ApiError as exc:
            return error_banner(str(exc), "The experiment could not be shown"), None, ""
        head = experiment_head(result)
        figure = ctr_figure(result)
        if figure is None:
            head += notice("No lists served in this experiment yet: no CTR to plot.")
        return head, figure, arm_table(result)

    def ranker(self) -> str:
        """The learned ranker being served (`GET /ranker`), or how to train one."""
        try:
            return ranker_summary(self.client.ranker())
        except ApiError as exc:
            return error_banner(str(exc), "The learned ranker could not be shown")


@dataclass(frozen=True)
class ExperimentsTab:
    """The controls of the tab that the page wires."""

    tab: gr.Tab
    picker: gr.Dropdown
    refresh: gr.Button
    head: gr.HTML
    plot: gr.Plot
    table: gr.HTML
    ranker: gr.HTML

    @property
    def shown(self) -> list[Any]:
        """The outputs of `ExperimentActions.show`."""
        return [self.head, self.plot, self.table]


def experiments_tab() -> ExperimentsTab:
    """Layout of the "Experiments" tab (the page wires the events)."""
    with gr.Tab("Experiments", id="experiments") as tab:
        with gr.Row():
            picker = gr.Dropdown(label="Experiment", choices=[], elem_id="experiment-pick", scale=4)
            refresh = gr.Button("Refresh", elem_id="experiment-refresh", scale=1)
        head = gr.HTML(elem_id="experiment-head")
        plot = gr.Plot(label="CTR per arm", format="png", elem_id="experiment-plot")
        table = gr.HTML(elem_id="experiment-table")
        ranker = gr.HTML(elem_id="ranker-summary")
    return ExperimentsTab(tab, picker, refresh, head, plot, table, ranker)


def wire_experiments(actions: ExperimentActions, tab: ExperimentsTab) -> None:
    """Opening the tab or pressing Refresh reloads the list and the learned ranker's metrics;
    picking shows one experiment."""
    reloads = [tab.tab.select, tab.refresh.click]
    gr.on(reloads, actions.refresh, tab.picker, [tab.picker, *tab.shown])
    gr.on(reloads, actions.ranker, None, tab.ranker)
    tab.picker.input(actions.show, tab.picker, tab.shown)
