"""Simulated traffic through the REST API alone, as a storefront sends it: shoppers browse
(each list's query is the product they look at), get lists, click, add to cart, buy."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from tqdm import tqdm

from core.errors import LookalikeError
from simulate.shoppers import Shopper, react

EVENT_BATCH = 200
MAX_MISSES = 100  # products in a row without a vector before giving up
FOLLOW_CLICK = 0.5  # after a click, the shopper looks at that product next


@dataclass
class Tally:
    """What the simulation served and sent, per experiment arm (None: no experiment)."""

    lists: Counter[str | None] = field(default_factory=Counter)
    clicked_lists: Counter[str | None] = field(default_factory=Counter)
    events: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    rejected: int = 0

    def add(self, other: Tally) -> None:
        """Add another worker's tally to this one."""
        self.lists.update(other.lists)
        self.clicked_lists.update(other.clicked_lists)
        self.events.update(other.events)
        self.rejected += other.rejected

    def ctr(self, arm: str | None = None) -> float:
        """Lists with a click ÷ lists served (of one arm)."""
        return self.clicked_lists[arm] / self.lists[arm] if self.lists[arm] else 0.0


@dataclass(frozen=True)
class Traffic:
    """Who browses and how: the API, the shoppers, and the list parameters."""

    api_url: str
    shoppers: int = 200
    lists: int = 2000
    params: dict[str, Any] = field(default_factory=dict)  # model, top_k, ranker, ...
    workers: int = 4
    seed: int = 0  # who the shoppers are (their tastes)
    events_key: str | None = None
    session: int = 0  # a later session of the same shoppers browses anew


def run(traffic: Traffic, progress: bool = True) -> Tally:
    """Serve `traffic.lists` lists to `traffic.shoppers` simulated shoppers; post their events."""
    rng = random.Random(traffic.seed)
    shoppers = [Shopper.draw(i, rng) for i in range(traffic.shoppers)]
    share = [traffic.lists // traffic.workers] * traffic.workers
    share[0] += traffic.lists - sum(share)
    bar = tqdm(total=traffic.lists, desc="simulated lists", unit="list", disable=not progress)
    lock = threading.Lock()
    tally = Tally()

    def worker(index: int) -> None:
        mine = shoppers[index :: traffic.workers] or shoppers
        browsing = random.Random(f"{traffic.seed}:{traffic.session}:{index}")
        own = _browse(traffic, mine, share[index], browsing, bar)
        with lock:
            tally.add(own)

    with ThreadPoolExecutor(traffic.workers) as pool:
        list(pool.map(worker, range(traffic.workers)))
    bar.close()
    return tally


def _browse(
    traffic: Traffic, shoppers: list[Shopper], lists: int, rng: random.Random, bar: tqdm
) -> Tally:
    tally = Tally()
    headers = {"Authorization": f"Bearer {traffic.events_key}"} if traffic.events_key else {}
    looking_at: dict[str, dict[str, Any]] = {}
    pending: list[dict[str, Any]] = []
    with httpx.Client(base_url=traffic.api_url, timeout=60) as http:
        served = misses = 0
        while served < lists:
            shopper = rng.choice(shoppers)
            if shopper.user_id not in looking_at:
                looking_at[shopper.user_id] = _random_product(http)
            query = looking_at[shopper.user_id]
            answer = _get(http, query["product_id"], shopper.user_id, traffic.params)
            if answer is None:  # no vector for this model: the shopper looks elsewhere
                looking_at.pop(shopper.user_id)
                misses += 1
                if misses >= MAX_MISSES:
                    raise LookalikeError(
                        f"{MAX_MISSES} random products in a row have no vector for "
                        f"{traffic.params.get('model', 'the default model')}: embed and index it"
                    )
                continue
            served, misses = served + 1, 0
            arm = _arm_of(answer)
            tally.lists[arm] += 1
            events = react(shopper, answer["results"], query.get("articleType"), rng)
            if any(kind == "click" for kind, _ in events):
                tally.clicked_lists[arm] += 1
            for kind, product_id in events:
                tally.events[(arm, kind)] += 1
                pending.append(
                    {
                        "type": kind,
                        "ranking_id": answer["ranking_id"],
                        "product_id": product_id,
                        "user_id": shopper.user_id,
                    }
                )
            clicked = [r for r in answer["results"] if (("click", r["product_id"]) in events)]
            if clicked and rng.random() < FOLLOW_CLICK:
                looking_at[shopper.user_id] = rng.choice(clicked)
            elif rng.random() < 0.2:  # a new session
                looking_at.pop(shopper.user_id)
            if len(pending) >= EVENT_BATCH:
                tally.rejected += _post(http, pending, headers)
                pending = []
            bar.update(1)
        tally.rejected += _post(http, pending, headers)
    return tally


def _arm_of(answer: dict[str, Any]) -> str | None:
    """The arm that served a list: its name (A/B), "interleaved", or None (no experiment)."""
    if answer.get("experiment") is None:
        return None
    return answer.get("arm") or "interleaved"


def _random_product(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/products/random")
    if answer.status_code != 200:
        raise LookalikeError(f"GET /products/random answered {answer.status_code}: {answer.text}")
    return dict(answer.json())


def _get(
    http: httpx.Client, product_id: str, user_id: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The list for a product, or None when the product has no vector for the model (404)."""
    answer = http.get("/recommend", params={"product_id": product_id, "user_id": user_id, **params})
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise LookalikeError(f"GET /recommend answered {answer.status_code}: {answer.text}")
    return dict(answer.json())


def _post(http: httpx.Client, events: list[dict[str, Any]], headers: dict[str, str]) -> int:
    """Post events; returns how many the API rejected."""
    if not events:
        return 0
    answer = http.post("/events", json=events, headers=headers)
    if answer.status_code != 202:
        raise LookalikeError(f"POST /events answered {answer.status_code}: {answer.text}")
    return len(answer.json()["rejected"])
