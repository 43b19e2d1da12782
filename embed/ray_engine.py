"""`lookalike embed --engine ray`: the batch embedding on a Ray cluster.

Ray Data splits the products into batches and a pool of actors, each holding one loaded network
(or the text encoder), turns them into vectors; the driver puts them back in catalogue order and
writes the same files as the local engine. Every node needs Lookalike installed and the data
folder at the same path (a shared filesystem): actors read the pixels themselves, so only
product rows and vectors travel through Ray.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LookalikeError
from core.registry import Network
from core.schema import catalogue_schema
from embed.encoding import Vectors
from embed.sources import WeightsSource
from embed.text import product_text

BATCH_SIZE = 256


class PixelEncoder:
    """A Ray actor: one loaded image network and the catalogue's pixels."""

    def __init__(
        self, network: Network, source: WeightsSource, weights_dir: Path, catalog_dir: Path
    ) -> None:
        import torch

        from embed.catalog import open_catalog
        from embed.weights import load_network

        torch.set_num_threads(1)  # one core per actor; the pool size sets the parallelism
        self.loaded = load_network(network, source, weights_dir)
        self.catalog = open_catalog(catalog_dir)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        import torch

        from embed.encoding import encode_pixels

        pixels = self.catalog.pixels_of(batch)
        vectors = encode_pixels(self.loaded, torch.from_numpy(pixels))
        return pd.DataFrame({"position": batch["position"], "vector": list(vectors)})


class TextRows:
    """A Ray actor: the pretrained text encoder."""

    def __init__(self) -> None:
        import torch

        from embed.text_encoder import TextEncoder

        torch.set_num_threads(1)
        self.encoder = TextEncoder.load()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        vectors = self.encoder.encode(batch["text"].tolist())
        return pd.DataFrame({"position": batch["position"], "vector": list(vectors)})


class RayEngine:
    """Image and text vectors computed by actor pools on a Ray cluster."""

    def __init__(
        self,
        catalog_dir: Path,
        sources: dict[Network, WeightsSource],
        weights_dir: Path,
        address: str | None = None,
        actors: int | None = None,
    ) -> None:
        import ray

        self.catalog_dir = catalog_dir.resolve()
        self.schema = catalogue_schema(self.catalog_dir)
        self.sources, self.weights_dir = sources, weights_dir
        # "local": a new cluster, never a stale one a killed `ray start` left behind in /tmp/ray.
        address = address or os.environ.get("RAY_ADDRESS") or "local"
        _check_reachable(address)  # ray.init would retry an absent cluster for minutes
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise LookalikeError(
                f"cannot reach the Ray cluster at {address}: {exc}; start "
                "one with `ray start --head` or pass its --address"
            ) from exc
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.actors = actors or max(1, cpus)
        print(f"ray: {cpus} CPUs in the cluster, {self.actors} actors per model")

    def images(self, network: Network, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of products that all have an image, in their order."""
        rows = pd.DataFrame(
            {
                "position": np.arange(len(products)),
                "pixel_row": products["pixel_row"].to_numpy(dtype=np.float64),
                "image_file": products["image_file"].astype(str).to_numpy(),
            }
        )
        source = self.sources.get(network, WeightsSource("catalog"))
        args = (network, source, self.weights_dir, self.catalog_dir)
        return self._run(rows, PixelEncoder, args, label, "images")

    def texts(self, products: pd.DataFrame, label: str) -> Vectors:
        """Vectors of the products' texts, in their order."""
        texts = [product_text(p, self.schema) for p in products.to_dict("records")]
        rows = pd.DataFrame({"position": np.arange(len(texts)), "text": texts})
        return self._run(rows, TextRows, (), label, "texts")

    def _run(
        self, rows: pd.DataFrame, actor: type, args: tuple[Any, ...], label: str, what: str
    ) -> Vectors:
        import ray.data

        started = time.monotonic()
        dataset = ray.data.from_pandas(rows).map_batches(
            actor,
            fn_constructor_args=args,
            batch_size=BATCH_SIZE,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=1,
        )
        positions, chunks = [], []
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
            positions.append(np.asarray(batch["position"]))
            chunks.append(np.stack(list(batch["vector"])).astype(np.float32))
        order = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        if sorted(order.tolist()) != list(range(len(rows))):
            raise LookalikeError(f"{label}: the Ray run returned {len(order)} of {len(rows)} rows")
        out = np.empty((len(rows), chunks[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(chunks)
        seconds = time.monotonic() - started
        print(f"{label} (ray): {len(rows)} {what} in {seconds:.1f} s ({len(rows) / seconds:.0f}/s)")
        return out


def _check_reachable(address: str) -> None:
    """A LookalikeError unless a `host:port` address accepts a connection within 5 s."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise LookalikeError(
            f"cannot reach the Ray cluster at {address}: {exc}; start one with "
            "`ray start --head` or pass its --address"
        ) from exc
