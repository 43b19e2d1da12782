"""Training products (never held-out ones) as in-memory pixels and metadata records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from core.schema import CatalogueSchema
from embed.catalog import CatalogueSnapshot
from embed.split import Split


@dataclass
class TrainSet:
    """Pixels (N, 80, 80, 3) uint8 and metadata of the training products, same order."""

    pixels: torch.Tensor
    records: list[dict[str, Any]]
    schema: CatalogueSchema

    def __len__(self) -> int:
        return len(self.records)

    def images(self, rows: torch.Tensor) -> torch.Tensor:
        """Float (B, 3, 80, 80) images in [0, 1] of the given rows."""
        return self.pixels[rows].permute(0, 3, 1, 2).float().div_(255.0)

    def batches(self, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless seeded epochs of shuffled row batches (the last partial batch is dropped)."""
        while True:
            order = torch.randperm(len(self), generator=generator)
            for start in range(0, len(self) - batch_size + 1, batch_size):
                yield order[start : start + batch_size]


def training_set(catalog: CatalogueSnapshot, *excluded: Split) -> TrainSet:
    """Products with an image in none of the `excluded` splits (test, validation)."""
    products = catalog.with_images()
    for split in excluded:
        products = products[~split.is_held_out(products["id"])]
    pixels = torch.from_numpy(catalog.pixels_of(products))
    return TrainSet(pixels, products.to_dict("records"), catalog.schema)
