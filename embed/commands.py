"""CLI sub-commands of the embed stage: `lookalike train` and `lookalike embed`."""

from __future__ import annotations

import argparse
from typing import Any, cast

from core.registry import MODELS, NETWORKS, Network
from core.settings import Settings
from embed.errors import UnknownModelError
from embed.sources import WeightsSource, parse_source


def _settings(args: argparse.Namespace) -> Settings:
    return Settings().override(data_dir=args.data_dir)


def parse_weights(pairs: list[str]) -> dict[Network, WeightsSource]:
    """`network=source` pairs (source: catalog, hub:<tag> or a file path) to a mapping."""
    sources: dict[Network, WeightsSource] = {}
    for pair in pairs:
        network, sep, source = pair.partition("=")
        if not sep or network not in NETWORKS:
            raise UnknownModelError(
                f"--weights {pair!r}: expected <network>=<source> with network one of "
                f"{', '.join(NETWORKS)} and source catalog, hub:<tag> or a file path"
            )
        sources[cast(Network, network)] = parse_source(source)
    return sources


def run_train(args: argparse.Namespace) -> int:
    """Train the requested networks on the catalogue."""
    from embed.train import refit_whitening, train_networks

    networks = cast(list[Network], args.models)
    if args.whiten_only:
        refit_whitening(_settings(args), networks)
    else:
        train_networks(_settings(args), networks, max_minutes=args.max_minutes, steps=args.steps)
    return 0


def run_embed(args: argparse.Namespace) -> int:
    """Embed the catalogue with the requested models."""
    from embed.batch import embed_catalog
    from embed.hybrid import DEFAULT_HYBRID, HybridWeights
    from embed.loader import NetworkLoader

    hybrid = HybridWeights(*args.hybrid_weights) if args.hybrid_weights else DEFAULT_HYBRID
    loader = NetworkLoader(parse_weights(args.weights))
    settings = _settings(args)
    engine = None
    if args.engine == "ray":
        from embed.ray_engine import RayEngine

        engine = RayEngine(
            settings.catalog_dir, loader.sources, loader.weights_dir, args.address, args.actors
        )

    embed_catalog(
        settings, args.models, loader, hybrid, force=args.force, workers=args.workers, engine=engine
    )
    return 0


def register(subparsers: Any) -> None:
    """Add `train` and `embed` to the `lookalike` CLI."""
    train = subparsers.add_parser("train", help="train the embedding networks on the catalogue")
    train.add_argument("--models", nargs="+", choices=NETWORKS, default=list(NETWORKS))
    train.add_argument(
        "--max-minutes",
        type=float,
        default=30.0,
        help="time budget per network; the learning-rate schedule completes within it (0: none)",
    )
    train.add_argument(
        "--steps", type=int, help="exact step count (with --max-minutes 0, reproduces a run)"
    )
    train.add_argument(
        "--whiten-only",
        action="store_true",
        help="refit the whitening of trained ResNet/EfficientNet backbones without training them",
    )
    train.set_defaults(run=run_train)

    embed = subparsers.add_parser("embed", help="embed the catalogue with each model")
    embed.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    embed.add_argument(
        "--weights",
        nargs="*",
        default=[],
        metavar="NETWORK=SOURCE",
        help="per network: catalog (default), hub:<tag> or a weights file path",
    )
    embed.add_argument(
        "--hybrid-weights",
        nargs=3,
        type=float,
        help="weights of the image, text and category cosines (default: chosen on validation)",
        metavar=("IMAGE", "TEXT", "CATEGORY"),
    )
    embed.add_argument("--force", action="store_true", help="rebuild even if up to date")
    embed.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    embed.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where vectors are computed: this process, or a Ray cluster (Ray Data actor pools)",
    )
    embed.add_argument(
        "--address", help="Ray cluster address (default: RAY_ADDRESS, else a new local cluster)"
    )
    embed.add_argument("--actors", type=int, help="Ray actors per model (default: cluster CPUs)")
    embed.set_defaults(run=run_embed)
