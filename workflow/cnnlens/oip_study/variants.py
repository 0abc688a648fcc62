"""Variants of the OIP search: named overrides of the ``oip`` section (``oip_study.variants``).

An override such as ``{noise: {scales: [28], factors: [1.0]}}`` is merged key by key over the
resolved ``oip`` section: a mapping replaces only the keys it names, any other value (a list, a
number) replaces the whole value, and ``{}`` is the search as configured. Only the search's keys
(:class:`cnnlens.settings.OipSearch`, but its test images) may be overridden; the merged
section must still fit the schema's ``oip`` section and the search's checks. A variant that
sets ``noise.scales`` or ``noise.factors`` searches every layer with that noise
(``oip.noise.per_layer`` gives way, unless the variant sets it too);
:func:`cnnlens.oip.steps.layer_search_config` makes a variant's search one layer's. Every
problem is one line naming the variant, raised before any job. No TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from cnnlens.errors import CnnLensError
from cnnlens.oip.steps import check_search, layer_search_config
from cnnlens.settings import Oip, OipSearch, build, keys_of

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
#: The search's keys a variant may override (the test images are the same for all variants).
OVERRIDABLE = tuple(
    item.name for item in dataclasses.fields(OipSearch) if item.name != "test_images"
)


def plain(value: Any) -> Any:
    """``value`` with tuples made lists, recursively (as a config mapping holds it)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged over ``base``: mappings key by key, other values replaced."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def variant_searches(
    oip: Oip, variants: Mapping[str, Mapping[str, Any]], searchable: bool = True
) -> dict[str, dict]:
    """Each variant's search keys (a plain mapping for a rule's params, rebuilt with
    ``settings.build(OipSearch, ...)``), in the variants' order: its keys and values checked,
    and with ``searchable`` also the search's checks (which depend on the oip section: the
    staged variant's stage_starts must fall within oip.steps)."""
    if not variants:
        raise CnnLensError(
            "oip_study.variants is empty: name at least one variant ({} is the search as "
            "configured in oip)"
        )
    base = plain(dataclasses.asdict(oip))
    return {
        name: variant_search(base, name, override or {}, searchable)
        for name, override in variants.items()
    }


def layer_searches(
    oip: Oip, variants: Mapping[str, Mapping[str, Any]], layer: str
) -> dict[str, dict]:
    """Each variant's search of ``layer`` (its own noise where ``oip.noise.per_layer`` names
    it), checked: the params of the layer's job."""
    searches = variant_searches(oip, variants)
    return {name: layer_search_config(search, layer) for name, search in searches.items()}


def variant_search(
    base: Mapping[str, Any], name: str, override: Mapping[str, Any], searchable: bool = True
) -> dict:
    """The search keys of variant ``name``: ``override`` merged over the ``oip`` section
    ``base``, checked against the schema and (``searchable``) the search's checks."""
    setting = f"oip_study.variants.{name}"
    outside = sorted(set(override) - set(OVERRIDABLE))
    if outside:
        raise CnnLensError(
            f"{setting} overrides {outside}; a variant may override only "
            f"{', '.join(OVERRIDABLE)}; fix the variant in config.yaml"
        )
    section = merged(base, plain(override))
    noise = plain(override.get("noise") or {})
    if {"scales", "factors"} & set(noise):
        # the variant's noise on every layer: the oip section's per-layer noise gives way
        section["noise"] = {**section["noise"], "per_layer": noise.get("per_layer", {})}
    error = best_match(Draft202012Validator(oip_schema()).iter_errors(section))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path) or "(the override)"
        raise CnnLensError(f"{setting}: oip.{key}: {error.message}; fix the variant in config.yaml")
    search = keys_of(OipSearch, section)
    if not searchable:
        return search
    try:
        check_search(build(OipSearch, search))
    except CnnLensError as problem:
        raise CnnLensError(f"{setting}: {problem}") from None
    return search


@lru_cache(maxsize=1)
def oip_schema() -> dict[str, Any]:
    """The schema of the ``oip`` section (read with libyaml's parser where there is one: the
    pure-Python one takes a noticeable part of a no-op rerun)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SCHEMA.read_text(), Loader=loader)["properties"]["oip"]
