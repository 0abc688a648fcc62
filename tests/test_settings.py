"""The settings tree mirrors the schema key for key, and holds no default of its own."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml
from helpers import SCHEMA, default_architecture

from cnnlens import plan, settings
from cnnlens.configuration import validate_config
from cnnlens.errors import CnnLensError
from cnnlens.network import from_architecture


def schema_sections(node: dict, cls: type) -> list[tuple[type, dict]]:
    """(settings class, schema node) for every section, depth first."""
    pairs = [(cls, node)]
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        hint = hints[item.name]
        if dataclasses.is_dataclass(hint):
            pairs += schema_sections(node["properties"][item.name], hint)
    return pairs


def test_every_section_has_exactly_the_schema_keys_and_no_default() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    for cls, node in schema_sections(schema, settings.Settings):
        names = [item.name for item in dataclasses.fields(cls)]
        assert sorted(names) == sorted(node["properties"]), cls.__name__
        for item in dataclasses.fields(cls):
            assert item.default is dataclasses.MISSING, f"{cls.__name__}.{item.name}"
            assert item.default_factory is dataclasses.MISSING, f"{cls.__name__}.{item.name}"


def validated(override: dict | None = None) -> dict:
    config = override or {}
    validate_config(config, SCHEMA)
    return config


def test_the_tree_is_built_from_the_validated_config() -> None:
    tree = settings.from_config(validated({"oip": {"steps": 7}}))
    assert tree.oip.steps == 7
    assert tree.oip.revival.scales == (2, 3, 5, 7)
    assert tree.activations.pairs == ((4, 9),)
    assert tree.dream.layers.weights == {"Conv2D_2": 1.0, "Conv2D_3": 1.0}


def test_a_rule_params_part_rebuilds_its_settings() -> None:
    config = validated()
    search = settings.keys_of(settings.OipSearch, config["oip"])
    assert "colormap" not in search and "layers" not in search
    assert settings.build(settings.OipSearch, search).steps == config["oip"]["steps"]
    with pytest.raises(KeyError, match="unknown"):
        settings.build(settings.OipSearch, config["oip"])


@pytest.mark.parametrize(
    "override, message",
    [
        ({"oip": {"layers": ["Max_Pool_1"]}}, "oip.layers names 'Max_Pool_1', a pool layer"),
        ({"oip": {"node_oips": {"maps": [128]}}}, "oip.node_oips.maps lists maps [128]"),
        ({"dream": {"single_map": {"maps": [200]}}}, "dream.single_map.maps lists maps [200]"),
        ({"dream": {"fine": {"maps": [130]}}}, "dream.fine.maps lists maps [130]"),
        ({"activations": {"layers": ["Conv2D_9"]}}, "lacks; its layers are Conv2D_1"),
        ({"activations": {"pairs": [[4, 12]]}}, "activations.pairs [4, 12]"),
        ({"oip": {"revival": {"factors": [1.0]}}}, "oip.revival: noise scales"),
        ({"oip": {"snapshot_steps": [0, 500]}}, "oip.snapshot_steps [500] lie outside"),
        ({"training": {"validation_size": 60000}}, "training.validation_size"),
        (
            {"data": {"subset": {"test": 50}}, "activations": {"examples": {"test_indices": [60]}}},
            "test_indices [60] lie beyond the 50 test images",
        ),
    ],
)
def test_checks_the_config_alone_can_answer(override, message) -> None:
    tree = settings.from_config(validated(override))
    with pytest.raises(CnnLensError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan.check(tree, plan.network(tree))


def test_the_default_config_passes_every_check() -> None:
    tree = settings.from_config(validated())
    network = plan.network(tree)
    plan.check(tree, network)
    assert network == from_architecture(default_architecture(), (28, 28, 1))
