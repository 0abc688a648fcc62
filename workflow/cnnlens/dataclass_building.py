"""Frozen dataclasses from validated config mappings, recursively and generically: nested
sections become their own dataclasses, lists tuples. The settings tree (:mod:`cnnlens.settings`)
is built this way, and a rule's ``params`` are :func:`keys_of` the part of a section it uses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def build(cls: type[T], mapping: Mapping[str, Any]) -> T:
    """The dataclass ``cls`` from a validated config mapping (extra keys are an error)."""
    hints = _type_hints(cls)
    names = [item.name for item in dataclasses.fields(cls)]
    unknown = set(mapping) - set(names)
    missing = set(names) - set(mapping)
    if unknown or missing:
        raise KeyError(
            f"{cls.__name__}: config keys {sorted(unknown)} unknown, {sorted(missing)} missing; "
            "the settings tree and the schema disagree"
        )
    return cls(**{name: _convert(hints[name], mapping[name]) for name in names})


def keys_of(cls: type, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``mapping`` that are fields of ``cls`` (a rule's exact ``params``)."""
    return {item.name: mapping[item.name] for item in dataclasses.fields(cls)}


@cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any) -> Any:
    """``value`` as the type ``hint`` says: dataclasses built, lists as tuples."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        hint = next(argument for argument in arguments if argument is not type(None))
        return _convert(hint, value)
    if dataclasses.is_dataclass(hint):
        return build(hint, value)
    if origin is tuple:
        item = arguments[0]
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(_convert(item, element) for element in value)
        return tuple(_convert(kind, element) for kind, element in zip(arguments, value))
    if origin is dict:
        return {key: _convert(arguments[1], item) for key, item in value.items()}
    return value
