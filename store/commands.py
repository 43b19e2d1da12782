"""The `lookalike index` command."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.settings import Settings
from store.errors import StoreError
from store.names import BACKENDS, MODELS
from store.options import BuildOptions, HnswParams


def _count(minimum: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def register(subparsers: Any) -> None:
    """Add `index` to the CLI."""
    parser = subparsers.add_parser(
        "index",
        help="load embeddings into the vector store, one collection per model",
        description="Build (or atomically rebuild) one collection per model from "
        "data/embeddings/<model>/ and the catalogue; models whose collection already matches "
        "their embeddings are skipped.",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="default: LOOKALIKE_BACKEND")
    parser.add_argument(
        "--models", nargs="+", choices=MODELS, metavar="MODEL", help="default: all embedded"
    )
    parser.add_argument("--shards", type=_count(1), default=1, help="qdrant server: shard_number")
    parser.add_argument(
        "--replicas", type=_count(1), default=1, help="qdrant server: replication_factor"
    )
    defaults = HnswParams()
    parser.add_argument("--hnsw-m", type=_count(2), default=defaults.m)
    parser.add_argument("--hnsw-ef-construct", type=_count(4), default=defaults.ef_construct)
    parser.add_argument(
        "--payload-m", type=_count(0), default=defaults.payload_m, help="Qdrant filter links"
    )
    parser.add_argument("--quantization", choices=("none", "int8"), default="none")
    parser.add_argument("--faiss-index", choices=("flat", "hnsw"), default="flat")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.set_defaults(run=run_index)


def run_index(args: argparse.Namespace) -> int:
    """Index the chosen models and print one summary line per model."""
    from store.indexing import index_models  # pandas and the engines load only when used

    settings = Settings().override(
        data_dir=Path(args.data_dir) if args.data_dir else None, backend=args.backend
    )
    if settings.backend != "qdrant" and (args.shards, args.replicas) != (1, 1):
        raise StoreError("--shards and --replicas apply to --backend qdrant only")
    options = BuildOptions(
        hnsw=HnswParams(
            m=args.hnsw_m, ef_construct=args.hnsw_ef_construct, payload_m=args.payload_m
        ),
        quantization=args.quantization,
        faiss_index=args.faiss_index,
        shards=args.shards,
        replicas=args.replicas,
    )
    reports = index_models(
        settings, args.models, backend=settings.backend, options=options, force=args.force
    )
    for report in reports:
        print(report.summary())
    return 0
