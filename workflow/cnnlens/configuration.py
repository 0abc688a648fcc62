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
from jsonschema import Draft202012Validator
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
        while True:
            try:
                validate(config, str(composed))
                return
            except WorkflowError as error:
                cause = error.__cause__ or error.__context__
                if not isinstance(cause, jsonschema.ValidationError):
                    raise
                if not _retype_command_line_value(config, cause):
                    raise WorkflowError(describe_validation_error(cause)) from None


def _retype_command_line_value(config: MutableMapping[str, Any], error: Any) -> bool:
    """Give a string the type the schema asks for, if it reads as one; True if it did.

    Snakemake passes the nested values of ``--config key='{a: 2}'`` as strings ('2'); reading
    such a string as YAML recovers the number, boolean or null the user meant.
    """
    if error.validator != "type" or not isinstance(error.instance, str) or not error.path:
        return False
    try:
        value = yaml.safe_load(error.instance)
    except yaml.YAMLError:
        return False
    expected = error.validator_value
    expected = [expected] if isinstance(expected, str) else list(expected)
    if not any(Draft202012Validator.TYPE_CHECKER.is_type(value, name) for name in expected):
        return False
    *parents, key = error.absolute_path
    container = config
    for part in parents:
        container = container[part]
    container[key] = value
    return True


def describe_validation_error(error: Any) -> str:
    """``invalid config, key training.epochs: 'ten' is not of type 'integer'; fix it ...``."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return (
        f"invalid config, key {key}: {error.message}; fix it in config.yaml or the --config "
        "override (keys and types: README, 'Configuration')"
    )
