"""The online encoders, loaded with the very weights the served vectors were made with."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from core.manifest import Manifest
from core.registry import NETWORKS
from embed.hybrid import recorded_weights
from embed.online import Encoders
from embed.sources import WeightsSource
from embed.text import category_prompt
from recommend.categories import Vectors
from service.execution import Execution

log = logging.getLogger("lookalike.api")


class Encoding:
    """The encoders of the served models (loaded on first use, again when the embedding
    manifests change); unseen articleTypes are encoded on the model thread too."""

    def __init__(
        self, manifests: dict[str, Manifest], category_names: Sequence[str], execution: Execution
    ) -> None:
        self.manifests = manifests
        self._category_names = list(category_names)
        self._execution = execution
        self._encoders: Encoders | None = None
        self._lock = threading.Lock()

    @property
    def encoders(self) -> Encoders:
        """The online image/text encoders, loaded on first use (thread-safe)."""
        with self._lock:
            if self._encoders is None:
                sources = {
                    m["network"]: WeightsSource(m["weights"]["source"], m["weights"]["ref"])
                    for m in self.manifests.values()
                    if m.get("network") in NETWORKS
                }
                self._encoders = Encoders(
                    sources,
                    hybrid=recorded_weights(self.manifests.get("hybrid")),
                    category_names=self._category_names,
                )
            return self._encoders

    def reload(self, manifests: dict[str, Manifest]) -> None:
        """New manifests (a rebuild); new weights mean new encoders."""
        with self._lock:
            if manifests != self.manifests:
                self.manifests, self._encoders = manifests, None

    def encode_categories(self, names: Sequence[str]) -> Vectors:
        """Vectors of new articleTypes from their names, computed on the model thread."""
        prompts = [category_prompt(name) for name in names]
        return self._execution.model_work(lambda: self.encoders.encode_texts(prompts))

    def warm_up(self) -> None:
        """Load every network now, so the first write does not wait for it (errors: logged;
        the first write reports them)."""
        try:
            self.encoders.warm_up()
        except Exception:
            log.exception("loading the encoders at start failed")
