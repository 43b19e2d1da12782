"""Loads each network, and the pretrained text encoder, once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.registry import TEXT, Network
from embed.text_encoder import TextEncoder
from embed.weights import CATALOG, WEIGHTS_DIR, LoadedNetwork, WeightsSource, load_network


class NetworkLoader:
    """A thread-safe cache of loaded networks; sources default to `catalog`."""

    def __init__(
        self,
        sources: Mapping[Network, WeightsSource] | None = None,
        weights_dir: Path = WEIGHTS_DIR,
    ) -> None:
        self._sources = dict(sources or {})
        self._weights_dir = weights_dir
        self._loaded: dict[Network, LoadedNetwork] = {}
        self._text: TextEncoder | None = None
        self._lock = threading.Lock()

    @property
    def weights_dir(self) -> Path:
        """Where catalog-trained weights are read from."""
        return self._weights_dir

    @property
    def sources(self) -> dict[Network, WeightsSource]:
        """The weights source chosen per network (absent: catalog)."""
        return dict(self._sources)

    def get(self, network: Network) -> LoadedNetwork:
        """The loaded image network, loading it on first use."""
        with self._lock:
            if network not in self._loaded:
                source = self._sources.get(network, CATALOG)
                self._loaded[network] = load_network(network, source, self._weights_dir)
            return self._loaded[network]

    def text(self) -> TextEncoder:
        """The pretrained text encoder, verified and loaded on first use."""
        with self._lock:
            if self._text is None:
                self._text = TextEncoder.load()
            return self._text

    def describe(self, network: Network | str) -> dict[str, Any]:
        """The manifest entry of a network's weights (or the text encoder's)."""
        if network == TEXT:
            return self.text().describe()
        return self.get(network).describe()  # type: ignore[arg-type]
