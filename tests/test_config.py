"""config.yaml is validated before any job starts, with messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cnnlens.configuration import validate_config

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def test_defaults_fill_a_partial_config() -> None:
    config = {"training": {"epochs": 3}}
    validate_config(config, SCHEMA)
    assert config["training"]["epochs"] == 3
    assert config["training"]["optimizer"]["momentum"] == 0.9
    assert config["data"]["subset"] == {"train": None, "test": None}
    assert "seed" in config


def test_shipped_config_is_valid() -> None:
    root = SCHEMA.parents[2]
    for name in ("config.yaml", "tests/tiny_config.yaml"):
        validate_config(yaml.safe_load((root / name).read_text()), SCHEMA)


@pytest.mark.parametrize(
    "override, expected",
    [
        ("trainin={epochs: 2}", "'trainin' was unexpected"),
        ("training={epochs: ten}", "key training.epochs: 'ten' is not of type 'integer'"),
        ("training={lr_schedule: {kind: linear}}", "key training.lr_schedule.kind"),
    ],
)
def test_bad_config_stops_the_run_before_any_job(fresh_workspace, override, expected) -> None:
    result = fresh_workspace.snakemake("--dry-run", "--config", override, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert expected in output
    assert "fix it in config.yaml" in output
    assert not fresh_workspace.path("results").exists()


def test_command_line_strings_get_the_type_the_schema_asks_for() -> None:
    # snakemake passes nested --config values as strings
    config = {"training": {"epochs": "3", "optimizer": {"nesterov": "false"}}}
    validate_config(config, SCHEMA)
    assert config["training"]["epochs"] == 3
    assert config["training"]["optimizer"]["nesterov"] is False


def test_a_command_line_string_that_is_not_yaml_gets_the_one_line_error() -> None:
    with pytest.raises(Exception, match="key training.epochs: '\\[' is not valid YAML"):
        validate_config({"training": {"epochs": "["}}, SCHEMA)
