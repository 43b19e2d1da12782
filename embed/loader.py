"""Loads each network once, from the weights source configured for it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from embed.registry import Network
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
        self._lock = threading.Lock()

    def get(self, network: Network) -> LoadedNetwork:
        """The loaded network, loading it on first use."""
        with self._lock:
            if network not in self._loaded:
                source = self._sources.get(network, CATALOG)
                self._loaded[network] = load_network(network, source, self._weights_dir)
            return self._loaded[network]
