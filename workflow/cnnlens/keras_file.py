"""A ``.keras`` file's network read without TensorFlow (stub; see issue 11)."""

from __future__ import annotations

import os

from cnnlens.errors import CnnLensError
from cnnlens.network import Network


def read_network(path: str | os.PathLike) -> Network:
    """The network stored in the ``.keras`` file at ``path``."""
    raise CnnLensError(f"model.file {path}: reading .keras files is not implemented yet")
