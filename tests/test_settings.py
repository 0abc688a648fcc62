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
    tree = plan.start(validated({"oip": {"steps": 7}})).settings
    assert tree.oip.steps == 7
    assert tree.oip.revival.scales == (2, 3, 5, 7)
    assert tree.activations.pairs == ((4, 9),)


def test_keys_left_to_the_model_follow_the_model() -> None:
    tree = plan.start(validated()).settings
    assert tree.activations.layers == (
        "Conv2D_1", "Max_Pool_1", "Conv2D_2", "Max_Pool_2", "Conv2D_3", "dense", "dense_1"
    )
    assert tree.activations.examples.classes == tuple(range(10))
    assert tree.oip.layers == ("Conv2D_1", "Conv2D_2", "Conv2D_3")
    assert tree.oip.node_oips.layer == tree.dream.single_map.layer == "Conv2D_3"
    assert tree.oip.node_oips.maps == (0, 42, 85, 127)
    assert tree.dream.fine.maps == (0, 127)
    assert tree.dream.layers.weights == tree.dream.fine.weights == {"Conv2D_3": 1.0}


def test_classes_are_given_by_name_or_number() -> None:
    fashion = {"data": {"dataset": "fashion_mnist"}}
    override = {
        **fashion,
        "activations": {"pairs": [["Shirt", 0]], "examples": {"classes": ["Bag"]}},
    }
    start = plan.start(validated(override))
    assert start.settings.activations.pairs == ((6, 0),)
    assert start.settings.activations.examples.classes == (8,)
    assert start.class_names[9] == "Ankle boot"
    with pytest.raises(CnnLensError, match="no class called 'Sandals'; the classes are T-shirt"):
        plan.start(validated({**fashion, "activations": {"pairs": [["Sandals", 0]]}}))


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
        (
            {"oip": {"layers": ["Max_Pool_1"]}},
            "oip.layers names 'Max_Pool_1', a layer of kind pool",
        ),
        ({"oip": {"node_oips": {"maps": [128]}}}, "oip.node_oips.maps lists maps [128]"),
        ({"dream": {"single_map": {"maps": [200]}}}, "dream.single_map.maps lists maps [200]"),
        ({"dream": {"fine": {"maps": [130]}}}, "dream.fine.maps lists maps [130]"),
        ({"activations": {"layers": ["Conv2D_9"]}}, "lacks; its layers are Conv2D_1"),
        ({"activations": {"pairs": [[4, 12]]}}, "activations.pairs: class 12 is not a class"),
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
    with pytest.raises(CnnLensError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan.start(validated(override))


def test_the_default_config_passes_every_check() -> None:
    network = plan.start(validated()).network
    assert network == from_architecture(default_architecture(), (28, 28, 1))


def merged(base: dict, override: dict) -> dict:
    """``override`` merged into ``base`` key by key, as Snakemake merges config files."""
    result = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = merged(result[key], value) if both_mappings else value
    return result


@pytest.mark.parametrize("name", ["fashion_mnist.yaml", "quick.yaml"])
def test_the_shipped_config_variants_pass_every_check(name: str) -> None:
    root = SCHEMA.parents[2]
    base = yaml.safe_load((root / "config.yaml").read_text())
    variant = yaml.safe_load((root / "configs" / name).read_text())
    start = plan.start(validated(merged(base, variant)))
    assert start.network.conv_layers == ("Conv2D_1", "Conv2D_2", "Conv2D_3")
