"""Validating config.yaml against the JSON schema, with errors a person can act on.

The schema is split into one file per config section (``workflow/schemas/``), joined by
``$ref``s in ``config.schema.yaml``. Snakemake's validator fills in ``default:`` values only
within one schema document, so the section files are inlined first (:func:`compose_schema`)
and the composed schema is what Snakemake validates against.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import yaml
from snakemake.exceptions import WorkflowError


def compose_schema(path: str | os.PathLike) -> dict[str, Any]:
    """Load a YAML schema, replacing every ``$ref`` to a sibling file by that file's content."""
    path = Path(path)
    return _inline_file_references(yaml.safe_load(path.read_text()), path.parent)


def _inline_file_references(node: Any, directory: Path) -> Any:
    if isinstance(node, list):
        return [_inline_file_references(item, directory) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and not reference.startswith("#"):
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**compose_schema(directory / reference), **siblings}
    return {key: _inline_file_references(value, directory) for key, value in node.items()}


def validate_config(config: MutableMapping[str, Any], schema: str | os.PathLike) -> None:
    """Validate ``config`` in place (filling in defaults) or raise a one-line WorkflowError."""
    import jsonschema
    from snakemake.utils import validate

    with tempfile.TemporaryDirectory() as scratch:
        composed = Path(scratch) / "config.schema.yaml"
        composed.write_text(yaml.safe_dump(compose_schema(schema), sort_keys=False))
        try:
            validate(config, str(composed))
        except WorkflowError as error:
            cause = error.__cause__ or error.__context__
            if not isinstance(cause, jsonschema.ValidationError):
                raise
            raise WorkflowError(describe_validation_error(cause)) from None


def describe_validation_error(error: Any) -> str:
    """``invalid config, key training.epochs: 'ten' is not of type 'integer'; fix it ...``."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return (
        f"invalid config, key {key}: {error.message}; fix it in config.yaml or the --config "
        "override (keys and types: README, 'Configuration')"
    )
