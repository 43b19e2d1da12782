"""The learned re-ranker on the page: whether `ranker=learned` can be chosen, and the served
model's version, data window and held-out metrics (`GET /ranker`)."""

from __future__ import annotations

from html import escape
from typing import Any

import gradio as gr

from ui.guide import NO_RANKER, RANKERS
from ui.shapes import RankerInfo
from ui.views import notice, utc_time


def ranker_picker(info: RankerInfo | None, **layout: Any) -> gr.Radio:
    """The ranker picker (or its update): learned offered only while a model is served.
    `layout`: the label, id and the like, when the page first places it."""
    if info is None:
        static = [(RANKERS["static"], "static")]
        return gr.Radio(choices=static, value="static", interactive=False, **layout)
    learned = [(label, name) for name, label in RANKERS.items()]
    return gr.Radio(choices=learned, interactive=True, **layout)


def ranker_note(info: RankerInfo | None) -> str:
    """The line under the picker: the served model and how it scored, or how to train one."""
    if info is None:
        return NO_RANKER
    m = info.metrics
    return (
        f"**Learned** `{info.version}`: NDCG@5 {m.ndcg5_learned:.3f} against "
        f"{m.ndcg5_served:.3f} for the served order on {m.test_lists_evaluated:,} held-out lists."
    )


def _row(label: str, value: str) -> str:
    return f"<tr><th>{label}</th><td>{value}</td></tr>"


def ranker_summary(info: RankerInfo | None) -> str:
    """The served model for the Experiments tab: NDCG@5 learned vs served, its data window and
    version; a note saying how to train one when none is."""
    if info is None:
        return notice(NO_RANKER)
    m, w = info.metrics, info.window
    window = (
        f"{utc_time(w.start)} – {utc_time(w.end)} · {w.lists:,} lists, {w.clicked_lists:,} "
        f"clicked · {w.train_lists:,} train, {w.validation_lists:,} validation, "
        f"{w.test_lists:,} held-out test"
    )
    rows = (
        _row("NDCG@5 learned", f"{m.ndcg5_learned:.3f}"),
        _row("NDCG@5 served order", f"{m.ndcg5_served:.3f}"),
        _row("Difference", f"{m.ndcg5_learned - m.ndcg5_served:+.3f}"),
        _row("Data window", window),
        _row("Position bias", escape(info.position_bias)),
        _row("Features", ", ".join(f"<code>{escape(f)}</code>" for f in info.features)),
    )
    return (
        f'<section class="lk-ranker" data-version="{escape(info.version)}"><h3>Learned ranker</h3>'
        f'<p class="lk-experiment-line"><b>{escape(info.version)}</b> · trained '
        f"{escape(info.trained_at)} · {info.trees:,} trees</p>"
        f'<table class="lk-models lk-ranker-metrics"><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="lk-tile-hint">NDCG@5 on the {m.test_lists_evaluated:,} held-out lists with '
        "a click (the newest of the window, never trained on): the learned order against the "
        "order they were served in.</p></section>"
    )
