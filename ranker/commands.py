"""`lookalike ranker train`: a learned re-ranker from the logged lists and shoppers' events."""

from __future__ import annotations

import argparse
from typing import Any

from core.settings import Settings
from events.factory import open_event_store
from ranker.train import train_ranker


def register(subparsers: Any) -> None:
    """Add the `ranker` command group."""
    parser = subparsers.add_parser("ranker", help="the learned re-ranker (LightGBM lambdarank)")
    commands = parser.add_subparsers(dest="ranker_command", required=True)
    train = commands.add_parser(
        "train",
        help="train on the logged lists and events (LOOKALIKE_EVENTS_URL); serve the new model",
    )
    train.add_argument("--max-minutes", type=float, default=10.0, help="training time budget")
    train.set_defaults(run=_train)


def _train(args: argparse.Namespace) -> int:
    settings = Settings().override(data_dir=args.data_dir)
    store = open_event_store(settings.events_url, settings.data_dir)
    try:
        manifest = train_ranker(store, settings.rankers_dir, args.max_minutes)
    finally:
        store.close()
    metrics, window = manifest["metrics"], manifest["window"]
    print(
        f"ranker {manifest['version']}: {manifest['trees']} trees on {window['train_lists']:,} "
        f"lists (position bias: {manifest['position_bias']}); held-out tail "
        f"({metrics['test_lists_evaluated']:,} lists with a click): NDCG@5 learned "
        f"{metrics['ndcg5_learned']:.3f} vs served {metrics['ndcg5_served']:.3f}"
    )
    for bias, scores in metrics["position_bias"].items():
        print(
            f"  position bias {bias:>8}: validation {scores['validation_ndcg5']:.3f}, "
            f"test {scores['test_ndcg5']:.3f}"
        )
    print(f"saved to {settings.rankers_dir / manifest['version']}; the API picks it up in ~2 s")
    return 0
