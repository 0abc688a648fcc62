"""How dreams are named and described: render names, map lists, objective descriptions.

No TensorFlow and no matplotlib: the workflow plans its output files with these names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cnnlens.settings import FineDream, SingleMap

#: What the layer mix of the full-size dreams is called in output paths.
LAYER_MIX_RENDER = "layers"


def map_name(index: int) -> str:
    """``map_007``: how a map's dream is named in output paths."""
    return f"map_{index:03d}"


def nonzero_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The layer weights that are not 0 (a weight 0 switches a layer off), as floats."""
    return {name: float(value) for name, value in weights.items() if value != 0}


def unique_maps(maps: Sequence[int]) -> tuple[int, ...]:
    """``maps`` in their order, each once."""
    return tuple(dict.fromkeys(int(index) for index in maps))


def single_map_maps(single_map: SingleMap, extra_maps: Sequence[int] = ()) -> tuple[int, ...]:
    """The maps the single-map dreams render: the configured ones, then ``extra_maps`` (the
    best OIPs), each once."""
    return unique_maps([*single_map.maps, *extra_maps])


def fine_render_names(fine: FineDream) -> list[str]:
    """The full-size renders, in batch order: ``layers`` for the layer mix (when some weight
    is not 0), then ``map_NNN`` per map."""
    mix = [LAYER_MIX_RENDER] if nonzero_weights(fine.weights) else []
    return mix + [map_name(index) for index in unique_maps(fine.maps)]


def describe_map(layer: str, index: int) -> str:
    """``mean ReLU activation of Conv2D_3 map 7``."""
    return f"mean ReLU activation of {layer} map {index}"


def describe_mix(weights: Mapping[str, float]) -> str:
    """``1 x mean ReLU activation of all Conv2D_2 maps + 1 x ... Conv2D_3 maps``."""
    return " + ".join(
        f"{value:g} x mean ReLU activation of all {name} maps" for name, value in weights.items()
    )
