"""The config's model-dependent keys made concrete, before the settings tree is built.

Keys that name layers, maps or classes may be left null (or given as a count) so that the same
config fits any model: a user who drops in a model names no layer unless they want to. This
module fills them in from the network and the class names, in the validated config mapping
itself, so that every rule's ``params`` carry the concrete values (and a changed model that
changes them reruns what depends on them):

==============================  =========================================================
key                             null (or a number n) means
==============================  =========================================================
activations.layers              the model's conv, pooling and dense layers, in order
activations.pairs               (class names become label numbers)
activations.examples.classes    every class (class names become label numbers)
oip.layers                      every conv layer
oip.node_oips.layer             the deepest conv layer
oip.node_oips.maps              n maps spread evenly over the layer
dream.single_map.layer          the deepest conv layer
dream.single_map.maps           n maps spread evenly over the layer
dream.layers.weights            {deepest conv layer: 1.0}
dream.fine.weights              {deepest conv layer: 1.0}
dream.fine.maps                 n maps of single_map.layer spread evenly
oip_study.layers                oip.layers
oip_study.hand.layer            the deepest conv layer
==============================  =========================================================

No TensorFlow, no matplotlib: the rule files use this module.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from cnnlens.errors import CnnLensError
from cnnlens.network import Network

READ_OUT_KINDS = ("conv", "pool", "dense")


def resolve(config: MutableMapping[str, Any], network: Network, class_names: Sequence[str]) -> None:
    """Fill in ``config``'s model-dependent keys in place (see the module's table)."""
    deepest = deepest_conv_layer(network)
    activations, examples = config["activations"], config["activations"]["examples"]
    if activations["layers"] is None:
        activations["layers"] = [
            layer.name for layer in network.layers if layer.kind in READ_OUT_KINDS
        ]
    activations["pairs"] = [
        [class_index(name, class_names, "activations.pairs") for name in pair]
        for pair in activations["pairs"]
    ]
    chosen = examples["classes"]
    examples["classes"] = (
        list(range(len(class_names)))
        if chosen is None
        else [class_index(name, class_names, "activations.examples.classes") for name in chosen]
    )
    oip = config["oip"]
    if oip["layers"] is None:
        oip["layers"] = list(network.conv_layers)
    nodes = oip["node_oips"]
    nodes["layer"] = nodes["layer"] or deepest
    nodes["maps"] = chosen_maps(nodes["maps"], network, nodes["layer"], "oip.node_oips")
    dream = config["dream"]
    single = dream["single_map"]
    single["layer"] = single["layer"] or deepest
    single["maps"] = chosen_maps(single["maps"], network, single["layer"], "dream.single_map")
    dream["fine"]["maps"] = chosen_maps(
        dream["fine"]["maps"], network, single["layer"], "dream.single_map"
    )
    for kind in ("layers", "fine"):
        if dream[kind]["weights"] is None:
            dream[kind]["weights"] = {deepest: 1.0}
    study = config["oip_study"]
    if study["layers"] is None:
        study["layers"] = list(oip["layers"])
    study["hand"]["layer"] = study["hand"]["layer"] or deepest


def deepest_conv_layer(network: Network) -> str:
    """The name of the last conv layer (the network has at least one: checked before)."""
    if not network.conv_layers:
        raise CnnLensError(
            "the model has no conv layer, nothing to look inside; use a CNN "
            f"(its layers: {', '.join(network.names)})"
        )
    return network.conv_layers[-1]


def spread(count: int, available: int) -> list[int]:
    """``count`` indices spread evenly over 0..available-1, first and last included."""
    count = min(count, available)
    if count <= 1:
        return [0] * count
    return sorted({round(position * (available - 1) / (count - 1)) for position in range(count)})


def chosen_maps(choice: Any, network: Network, layer: str, section: str) -> list[int]:
    """A map list as given, or ``spread`` over the conv layer's maps for a number."""
    if not isinstance(choice, int):
        return [int(index) for index in choice]
    available = network.require_conv(layer, f"{section}.layer").maps
    return spread(choice, available)


def class_index(name: int | str, class_names: Sequence[str], setting: str) -> int:
    """A class given by label number or by name, as its label number."""
    if isinstance(name, int):
        if not 0 <= name < len(class_names):
            raise CnnLensError(
                f"{setting}: class {name} is not a class of the model (0..{len(class_names) - 1})"
            )
        return name
    if name in class_names:
        return list(class_names).index(name)
    raise CnnLensError(
        f"{setting}: no class called {name!r}; the classes are {', '.join(class_names)}"
    )
