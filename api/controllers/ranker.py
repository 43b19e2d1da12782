"""`GET /ranker`: the learned ranker being served, with what it was trained on and its metrics."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency

from api.views import errors
from service.learning import ShopperLoop


class RankerController(Controller):
    """The trained model behind `ranker=learned`."""

    path = "/ranker"

    @get(responses=errors(409), sync_to_thread=False)
    def get_ranker(self, loop: NamedDependency[ShopperLoop]) -> dict[str, Any]:
        """The served model's manifest: version, features, position-bias handling, data window
        and held-out metrics (NDCG@5 learned vs served); 409 when none is trained yet."""
        return loop.learned().manifest
