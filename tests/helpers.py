"""What several test files share: the default architecture (read from the schema, the one
place a default is written) and the study's CNN built from it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
MNIST_SHAPE = (28, 28, 1)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA.read_text())


def default_architecture() -> list[dict[str, Any]]:
    """The schema's default ``model.architecture``: the study's CNN."""
    return schema()["properties"]["model"]["properties"]["architecture"]["default"]


def study_cnn(l2: float = 0.0, dtype_policy: str = "float32"):
    """The study's CNN (untrained) for MNIST-sized images."""
    from cnnlens.model import build_cnn

    return build_cnn(default_architecture(), MNIST_SHAPE, l2, dtype_policy)
