"""The README documents every config key, and its set-up is the two commands CI runs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def leaf_keys(node: dict, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Dotted paths of every leaf key the schema describes."""
    properties = node.get("properties")
    if not properties:
        return [path]
    return [leaf for key, child in properties.items() for leaf in leaf_keys(child, (*path, key))]


def test_every_config_key_is_in_the_readme_reference() -> None:
    readme = (ROOT / "README.md").read_text()
    reference = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    schema = yaml.safe_load(SCHEMA.read_text())
    missing = [
        ".".join(path)
        for path in leaf_keys(schema)
        if f"`{'.'.join(path[1:]) or path[0]}`" not in reference
    ]
    assert not missing, f"README's configuration reference lacks {missing}"


def test_every_schema_key_has_a_default_and_a_description() -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    sections = schema["properties"]
    for section, node in sections.items():
        for path in leaf_keys(node, (section,)):
            leaf = node
            for key in path[1:]:
                leaf = leaf["properties"][key]
            assert "default" in leaf, ".".join(path)
            assert leaf.get("description"), ".".join(path)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in readme and "snakemake --cores all" in readme
    assert "python3 -m pytest" in ci and "\npytest\n" in readme
