"""What an experiment is: a design and its arms, each arm a set of parameter overrides."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

Design = Literal["ab", "interleave"]
NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_ARMS = 10


class InvalidExperiment(ValueError):
    """An experiment definition that cannot run; `field` names the part at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Overrides(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Parameters an arm sets; they win over the request's own."""

    model: str | None = None
    lambda_diversity: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    candidates: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    category_mode: Literal["soft", "hard", "off"] | None = None
    w_sim: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    w_cat: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    ranker: Literal["static", "learned"] | None = None

    def values(self) -> dict[str, Any]:
        """The parameters this arm sets, by name."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class Arm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One arm: its name, its share of shoppers and what it changes."""

    name: Annotated[str, msgspec.Meta(pattern=NAME.pattern)]
    weight: Annotated[float, msgspec.Meta(gt=0.0, le=1e6)] = 1.0
    overrides: Overrides = msgspec.field(default_factory=Overrides)


class ExperimentSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`PUT /experiments/{name}`'s body."""

    design: Design
    arms: Annotated[list[Arm], msgspec.Meta(min_length=2, max_length=MAX_ARMS)]


def parse_spec(raw: object, models: tuple[str, ...]) -> ExperimentSpec:
    """A checked experiment definition, or InvalidExperiment naming the field at fault."""
    try:
        spec = msgspec.convert(raw, ExperimentSpec)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in text else None
        raise InvalidExperiment(f"invalid experiment: {text}", field) from exc
    names = [arm.name for arm in spec.arms]
    if len(set(names)) != len(names):
        raise InvalidExperiment(f"arm names must differ: {names}", "arms")
    if spec.design == "interleave" and len(spec.arms) != 2:
        raise InvalidExperiment("an interleaving experiment has exactly two arms", "arms")
    for i, arm in enumerate(spec.arms):
        model = arm.overrides.model
        if model is not None and model not in models:
            raise InvalidExperiment(
                f"arm {arm.name!r}: unknown model {model!r}; valid models: {', '.join(models)}",
                f"arms[{i}].overrides.model",
            )
    return spec


def valid_name(name: str) -> bool:
    """Whether `name` can name an experiment (1–64 of A-Z a-z 0-9 . _ -)."""
    return NAME.fullmatch(name) is not None
