"""HTML of the UI: the query card, result cards, 'Why these results?', comparisons and errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from service.schemas import (
    ModelInfo,
    Parameters,
    Product,
    Recommendation,
    RecommendServed,
    Timings,
)
from ui.explain import ListMetrics, list_metrics
from ui.guide import MODELS


def _text(value: object) -> str:
    return "—" if value is None or value == "" else escape(str(value))


def utc_time(seconds: float) -> str:
    """A Unix time to the minute, in UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _image(url: str | None, alt: str | None) -> str:
    """The API's image path made relative, so the UI server relays it even behind a prefix."""
    if not url:
        return '<div class="lk-noimg">no image</div>'
    return f'<img src="{escape(url.lstrip("/"))}" alt="{_text(alt)}" loading="lazy">'


def _model_label(model: str) -> str:
    return MODELS[model][0] if model in MODELS else model


def query_card(product: Product) -> str:
    """The query product: image, name, category path, colour and the rest of its metadata."""
    path = " › ".join(
        _text(p) for p in (product.masterCategory, product.subCategory, product.articleType)
    )
    facts = (
        ("Colour", product.baseColour),
        ("Gender", product.gender),
        ("Season", product.season),
        ("Usage", product.usage),
        ("Year", product.year),
    )
    rows = "".join(f"<div><dt>{name}</dt><dd>{_text(value)}</dd></div>" for name, value in facts)
    return (
        f'<article class="lk-query" data-query-id="{escape(product.product_id)}">'
        f"{_image(product.image_url, product.name)}"
        f'<div><p class="lk-eyebrow">Query product · #{escape(product.product_id)}</p>'
        f'<h3 class="lk-name">{_text(product.name)}</h3>'
        f'<p class="lk-path">{path}</p><dl class="lk-facts">{rows}</dl></div></article>'
    )


def _badge(result: Recommendation) -> str:
    if result.category_match:
        return '<span class="lk-badge lk-badge--same">Same category</span>'
    return '<span class="lk-badge lk-badge--related">Related category</span>'


def _score(name: str, value: float, hint: str) -> str:
    return f'<div title="{hint}"><dt>{name}</dt><dd>{value:.3f}</dd></div>'


def result_card(result: Recommendation, rank: int, with_category: bool = True) -> str:
    """One result: image, name, article type, final/ANN/category scores and the category badge."""
    scores = _score("Score", result.score, "final score: the list is sorted by it")
    scores += _score("ANN", result.ann_score, "cosine similarity to the query in the model space")
    if with_category:
        scores += _score(
            "Category", result.category_similarity, "article-type similarity; 1 = same type"
        )
    return (
        f'<article class="lk-card" data-product-id="{escape(result.product_id)}" tabindex="0" '
        f'title="Show products similar to this one">'
        f'<div class="lk-thumb">{_image(result.image_url, result.name)}'
        f'<span class="lk-rank">{rank}</span>'
        '<span class="lk-mmr" title="pick order of MMR, before the category re-rank">'
        f"MMR #{result.mmr_rank}</span></div>"
        f"{_badge(result) if with_category else ''}"
        f'<h4 class="lk-name">{_text(result.name)}</h4>'
        f'<p class="lk-meta">{_text(result.articleType)} · {_text(result.baseColour)}</p>'
        f'<dl class="lk-scores">{scores}</dl>{_closeness(result)}{VOTES}</article>'
    )


# Thumbs on every card: a vote adds the product to the "More like these" examples.
VOTES = (
    '<div class="lk-votes">'
    '<button type="button" data-vote="up" title="More like this">👍</button>'
    '<button type="button" data-vote="down" title="Less like this">👎</button></div>'
)


def _closeness(result: Recommendation) -> str:
    """Which positive example a result of several examples is closest to, and how close to
    the negatives it is (nothing for a one-product list)."""
    near = result.examples
    if near is None:
        return ""
    parts = []
    if near.closest_positive is not None and near.positive_similarity is not None:
        parts.append(
            f"closest to #{escape(near.closest_positive)} ({near.positive_similarity:.2f})"
        )
    if near.negative_similarity is not None:
        parts.append(f"to the 👎: {near.negative_similarity:.2f}")
    return f'<p class="lk-closeness">{" · ".join(parts)}</p>'


def examples_strip(positive: Sequence[str], negative: Sequence[str]) -> str:
    """The examples of the "More like these" list, as the thumbs built them."""
    ups = "".join(f'<li data-up="{escape(p)}">👍 #{escape(p)}</li>' for p in positive)
    downs = "".join(f'<li data-down="{escape(n)}">👎 #{escape(n)}</li>' for n in negative)
    return f'<ul class="lk-examples">{ups}{downs}</ul>'


def result_grid(
    results: Sequence[Recommendation], with_category: bool = True, ranking_id: str | None = None
) -> str:
    """The gallery of result cards, best first; `ranking_id` names the served list, so a click
    on a card can be reported against it."""
    if not results:
        return notice("No product matched: loosen the filters or switch category mode to soft.")
    cards = "".join(result_card(r, i, with_category) for i, r in enumerate(results, 1))
    served = f' data-ranking-id="{escape(ranking_id)}"' if ranking_id else ""
    return f'<div class="lk-grid" data-count="{len(results)}"{served}>{cards}</div>'


def _tile(label: str, value: str, hint: str) -> str:
    return (
        f'<div class="lk-tile"><p class="lk-tile-label">{label}</p>'
        f'<p class="lk-tile-value">{value}</p><p class="lk-tile-hint">{hint}</p></div>'
    )


def _metric_tiles(metrics: ListMetrics, query_type: str | None, with_category: bool) -> str:
    k = metrics.k
    tiles = ""
    if with_category:
        tiles += _tile(
            f"Exact category match@{k}",
            f"{metrics.matches}/{k} · {metrics.match_rate:.0%}",
            f"results that are {_text(query_type)}, like the query",
        )
        tiles += _tile(
            f"Avg category similarity@{k}",
            f"{metrics.mean_category_similarity:.3f}",
            "article-type similarity to the query; 1 = same type",
        )
    tiles += _tile(
        f"Intra-list diversity@{k}",
        f"{metrics.diversity:.2f}",
        "mean pairwise cosine distance of the results in the model's space; 0 = all alike",
    )
    return tiles


def _latency(timings: Timings) -> str:
    stages = (
        ("recall", timings.recall_ms),
        ("MMR", timings.mmr_ms),
        ("re-rank", timings.rerank_ms),
    )
    total = timings.total_ms or 1.0
    bars = "".join(
        f'<span class="lk-bar lk-bar--{i}" style="width:{100 * ms / total:.1f}%" '
        f'title="{name}: {ms:.1f} ms"></span>'
        for i, (name, ms) in enumerate(stages)
    )
    legend = " · ".join(f"{name} {ms:.1f} ms" for name, ms in stages)
    return (
        f'<div class="lk-latency"><p class="lk-tile-label">Latency · {timings.total_ms:.1f} ms'
        f'</p><div class="lk-bars">{bars}</div><p class="lk-tile-hint">{legend}</p></div>'
    )


def _steps(parameters: Parameters, query_type: str | None) -> str:
    """The steps after recall: the static MMR and category re-rank, or the learned ranker's."""
    p = parameters
    if p.ranker == "learned":
        return (
            f"<li><b>Learned ranker</b>: a model trained on shoppers' clicks scored all "
            f"{p.candidates} candidates (top feature contributions below).</li>"
            f"<li><b>MMR</b>: λ = {p.lambda_diversity:.2f} picked {p.top_k} with the learned "
            "score as relevance; score = the learned score, no category re-rank (the model "
            "weighs the category signals itself).</li>"
        )
    if p.category_mode == "off":
        rerank = "skipped: MMR order kept, score = ANN score (category ignored)"
    elif query_type is None:
        rerank = "the query has no article type, so sorted by ANN score"
    else:
        scope = f"only {escape(query_type)} recalled; " if p.category_mode == "hard" else ""
        rerank = f"{scope}sorted by score = {p.w_sim:g}·ANN + {p.w_cat:g}·category similarity"
    return (
        f"<li><b>MMR</b>: λ = {p.lambda_diversity:.2f} picked {p.top_k}, trading relevance "
        f"for diversity.</li><li><b>Re-rank</b> ({escape(p.category_mode)}): {rerank}.</li>"
    )


def _how(parameters: Parameters, query_type: str | None) -> str:
    """One sentence per stage of the pipeline, with the parameters the API used."""
    p = parameters
    filters = ", ".join(f"{k} = {escape(str(v))}" for k, v in p.filters.items()) or "none"
    return (
        f'<ol class="lk-how"><li><b>Recall</b>: the {p.candidates} nearest neighbours in '
        f"{escape(_model_label(p.model))} space (filters: {filters}).</li>"
        f"{_steps(p, query_type)}</ol>"
    )


def _contribution(feature: str, value: float) -> str:
    """One feature's push on the learned score: its name and signed value."""
    direction = "up" if value >= 0 else "down"
    return (
        f'<span class="lk-contrib lk-contrib--{direction}" data-feature="{escape(feature)}">'
        f"<code>{escape(feature)}</code> {value:+.3f}</span>"
    )


def contributions_table(results: Sequence[Recommendation]) -> str:
    """Each learned result's score and its largest feature contributions; "" for a list the
    learned ranker did not score."""
    rows = "".join(
        f'<tr data-product-id="{escape(r.product_id)}"><td>{rank}</td><td>{_text(r.name)}</td>'
        f"<td>{r.ranker_score:.3f}</td>"
        f"<td>{' '.join(_contribution(c.feature, c.value) for c in r.contributions or [])}</td></tr>"
        for rank, r in enumerate(results, 1)
        if r.ranker_score is not None
    )
    if not rows:
        return ""
    return (
        '<div class="lk-contribs"><p class="lk-tile-label">Learned ranker · top feature '
        'contributions</p><table class="lk-models"><thead><tr><th>#</th><th>Product</th>'
        f"<th>Learned score</th><th>Largest contributions</th></tr></thead><tbody>{rows}"
        '</tbody></table><p class="lk-tile-hint">How far each feature moved the product\'s '
        "score (positive: up); the other features and the model's base value make up the rest."
        "</p></div>"
    )


def _served_by(experiment: str | None, arm: str | None) -> str:
    """Which experiment arm served the list, whose settings win over the tuning panel's."""
    if not experiment:
        return ""
    return (
        f'<p class="lk-served" data-experiment="{escape(experiment)}" '
        f'data-arm="{escape(arm or "")}">Served by experiment <b>{escape(experiment)}</b>, arm '
        f"<b>{_text(arm)}</b>: the arm's settings replace the tuning panel's where they differ "
        "(the steps above show what was used).</p>"
    )


def why_panel(
    results: Sequence[Recommendation],
    timings: Timings,
    parameters: Parameters,
    diversity: float,
    query_type: str | None = None,
    with_category: bool = True,
    experiment: str | None = None,
    arm: str | None = None,
) -> str:
    """'Why these results?': category metrics, diversity, latency, the pipeline's steps, the
    learned ranker's top feature contributions per result and the experiment arm that served
    the list, if any."""
    tiles = _metric_tiles(list_metrics(results, diversity), query_type, with_category)
    return (
        f'<section class="lk-why"><h3>Why these results?</h3>'
        f'<div class="lk-tiles">{tiles}{_latency(timings)}</div>'
        f"{_how(parameters, query_type)}{contributions_table(results)}"
        f"{_served_by(experiment, arm)}</section>"
    )


def comparison(responses: Sequence[RecommendServed]) -> str:
    """One row per model for the same product: its metrics, latency and result cards."""
    rows = []
    for response in responses:
        metrics = list_metrics(response.results, response.intra_list_diversity)
        summary = (
            f"same category {metrics.matches}/{metrics.k} · "
            f"avg category sim {metrics.mean_category_similarity:.3f} · "
            f"diversity {metrics.diversity:.2f} · {response.timings.total_ms:.1f} ms"
        )
        rows.append(
            f'<section class="lk-row" data-model="{escape(response.model)}">'
            f"<h3>{escape(_model_label(response.model))}"
            f'<span class="lk-row-summary">{summary}</span></h3>'
            f"{result_grid(response.results, ranking_id=response.ranking_id)}</section>"
        )
    return "".join(rows)


def model_table(models: Sequence[ModelInfo]) -> str:
    """The served models as the API describes them."""
    rows = "".join(
        f"<tr><td>{escape(m.name)}</td><td>{escape(m.description)}</td>"
        f"<td>{m.count:,}</td><td>{m.dim}</td><td>{escape(m.weights)}</td></tr>"
        for m in models
    )
    return (
        '<table class="lk-models"><thead><tr><th>Model</th><th>What it sees</th>'
        f"<th>Products</th><th>Dim</th><th>Weights</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def notice(message: str) -> str:
    """A neutral message in place of results."""
    return f'<div class="lk-notice">{escape(message, quote=False)}</div>'


def event_note(reason: str) -> str:
    """A small line saying a click was not recorded (browsing is not affected)."""
    return (
        '<p class="lk-event-note" role="status">Your click was not recorded: '
        f"{escape(reason, quote=False)}</p>"
    )


def error_banner(message: str, title: str = "The results could not be shown") -> str:
    """What went wrong and how to fix it, in place of results (never a stack trace)."""
    return (
        f'<div class="lk-error" role="alert"><strong>{escape(title)}</strong>'
        f"<p>{escape(message, quote=False)}</p></div>"
    )
