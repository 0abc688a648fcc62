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
