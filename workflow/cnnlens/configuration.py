"""Validating config.yaml against the JSON schema, with errors a person can act on.

The schema (``workflow/schemas/config.schema.yaml``) is one document, one section per stage;
it is the only place where a default is written, and validation fills the defaults in.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def validate_config(config: MutableMapping[str, Any], schema: str | os.PathLike) -> None:
    """Validate ``config`` in place (filling in defaults) or raise a one-line WorkflowError."""
    while True:
        try:
            validate(config, str(schema))
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
    if error.validator not in ("type", "anyOf") or not error.path:
        return False
    try:
        value = _read_strings(error.instance)
    except yaml.YAMLError:
        return False
    if value == error.instance or not _fits(value, error.validator, error.validator_value):
        return False
    *parents, key = error.absolute_path
    container = config
    for part in parents:
        container = container[part]
    container[key] = value
    return True


def _read_strings(value: Any) -> Any:
    """``value`` with every string in it read as YAML (lists and mappings item by item)."""
    if isinstance(value, str):
        return yaml.safe_load(value)
    if isinstance(value, list):
        return [_read_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _read_strings(item) for key, item in value.items()}
    return value


def _fits(value: Any, validator: str, expected: Any) -> bool:
    """Whether ``value`` has one of the types (``type``) or fits one of the schemas
    (``anyOf``, e.g. a map list or a count) the failed check asked for."""
    if validator == "anyOf":
        return any(Draft202012Validator(schema).is_valid(value) for schema in expected)
    names = [expected] if isinstance(expected, str) else list(expected)
    return any(Draft202012Validator.TYPE_CHECKER.is_type(value, name) for name in names)


def describe_validation_error(error: Any) -> str:
    """``invalid config, key training.epochs: 'ten' is not of type 'integer'; fix it ...``;
    a --config value that is not YAML at all is called that."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    problem = _yaml_problem(error.instance) if error.validator == "type" else None
    message = f"{error.instance!r} is not valid YAML ({problem})" if problem else error.message
    return (
        f"invalid config, key {key}: {message}; fix it in config.yaml or the --config "
        "override (keys and types: README, 'Configuration')"
    )


def _yaml_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as YAML, in one line (None for a non-string or good YAML)."""
    if not isinstance(value, str):
        return None
    try:
        yaml.safe_load(value)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        mark = getattr(error, "problem_mark", None)
        where = f" at character {mark.column + 1}" if mark is not None else ""
        return f"{problem}{where}"
    return None
