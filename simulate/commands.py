"""`lookalike simulate`: simulated shoppers browse through the REST API and send events."""

from __future__ import annotations

import argparse
from typing import Any

from core.settings import Settings
from simulate.shoppers import COLOURS
from simulate.traffic import Traffic, run


def register(subparsers: Any) -> None:
    """Add the `simulate` command."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulated shoppers browse, click and buy through the REST API (a simulation)",
        description="Drive traffic through the REST API alone, as a storefront would: simulated "
        f"shoppers (each likes two of {len(COLOURS)} colours, products of the type they look at, "
        "and their gender; they look at lower positions less) get lists and post events.",
    )
    parser.add_argument("--api", help="API base URL (env LOOKALIKE_API_URL)")
    parser.add_argument("--shoppers", type=int, default=200, help="distinct shoppers")
    parser.add_argument("--lists", type=int, default=2000, help="lists to request in all")
    parser.add_argument("--ranker", choices=["static", "learned"], help="ranker= of every request")
    parser.add_argument("--model", help="model= of every request (default: the API's)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="concurrent storefront clients")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    settings = Settings().override(api_url=args.api)
    params: dict[str, Any] = {"top_k": args.top_k}
    if args.ranker:
        params["ranker"] = args.ranker
    if args.model:
        params["model"] = args.model
    traffic = Traffic(
        api_url=settings.api_url,
        shoppers=args.shoppers,
        lists=args.lists,
        params=params,
        workers=args.workers,
        seed=args.seed,
        events_key=settings.events_key,
    )
    tally = run(traffic)
    clicks = sum(n for (_, kind), n in tally.events.items() if kind == "click")
    carts = sum(n for (_, kind), n in tally.events.items() if kind == "add_to_cart")
    buys = sum(n for (_, kind), n in tally.events.items() if kind == "purchase")
    print(
        f"{sum(tally.lists.values()):,} lists, {clicks:,} clicks, {carts:,} add-to-carts, "
        f"{buys:,} purchases ({tally.rejected} events rejected)"
    )
    for arm in sorted(tally.lists, key=str):
        label = arm or "no experiment"
        print(f"  {label}: {tally.lists[arm]:,} lists, CTR {tally.ctr(arm):.3f}")
    return 0
