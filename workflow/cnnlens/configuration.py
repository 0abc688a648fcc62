"""Validating config.yaml against the JSON schema, with errors a person can act on."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from snakemake.exceptions import WorkflowError


def validate_config(config: MutableMapping[str, Any], schema: str | os.PathLike) -> None:
    """Validate ``config`` in place (filling in defaults) or raise a one-line WorkflowError."""
    import jsonschema
    from snakemake.utils import validate

    try:
        validate(config, str(schema))
    except WorkflowError as error:
        cause = error.__cause__ or error.__context__
        if not isinstance(cause, jsonschema.ValidationError):
            raise
        raise WorkflowError(describe_validation_error(cause)) from None


def describe_validation_error(error: Any) -> str:
    """``config key training.epochs: 'ten' is not of type 'integer'; fix it in config.yaml``."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    return (
        f"invalid config, key {key}: {error.message}; fix it in config.yaml or the --config "
        "override (keys and types: README, 'Configuration')"
    )
