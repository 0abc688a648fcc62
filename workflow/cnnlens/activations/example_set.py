"""The selected test images with their probabilities and every layer's activations, stored
in one ``.npz`` so that drawing them needs no TensorFlow."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnlens.files import load_arrays, save_arrays
from cnnlens.activations.examples import Example
from cnnlens.errors import CnnLensError


@dataclass(frozen=True)
class ExampleSet:
    """The selected images ((N, H, W) grey, (N, H, W, 3) colour), their activations ({layer:
    (N, *shape)}), and the name of the model's output layer (whose nodes are the classes)."""

    examples: tuple[Example, ...]
    images: np.ndarray
    activations: dict[str, np.ndarray]
    output_layer: str

    @property
    def layers(self) -> list[str]:
        return list(self.activations)

    def position(self, index: int) -> int:
        """Where test image ``index`` is in this set, or an error listing what is there."""
        for position, example in enumerate(self.examples):
            if example.index == index:
                return position
        chosen = ", ".join(str(example.index) for example in self.examples)
        raise CnnLensError(
            f"test image {index} is not among the selected examples ({chosen}); "
            "add it to activations.examples.test_indices"
        )

    def example(self, index: int) -> Example:
        """The selected test image ``index``."""
        return self.examples[self.position(index)]

    def image(self, index: int) -> np.ndarray:
        """The (prepared) input image of test image ``index``, (H, W) or (H, W, 3)."""
        return self.images[self.position(index)]

    def activation(self, layer: str, index: int) -> np.ndarray:
        """The activation of ``layer`` for test image ``index`` (one image, no batch axis)."""
        if layer not in self.activations:
            raise CnnLensError(
                f"layer {layer!r} was not read out; add it to activations.layers "
                f"(read out: {', '.join(self.layers)})"
            )
        return self.activations[layer][self.position(index)]

    def activations_of(self, index: int, layers: Sequence[str]) -> dict[str, np.ndarray]:
        """Test image ``index``'s activations of ``layers``, in that order."""
        return {layer: self.activation(layer, index) for layer in layers}


def save_example_set(path: str | os.PathLike, example_set: ExampleSet) -> None:
    """Store an example set as ``.npz``: metadata arrays plus one ``layer:<name>`` per layer."""
    examples = example_set.examples
    save_arrays(
        path,
        {
            "indices": np.array([example.index for example in examples], dtype=np.int64),
            "labels": np.array([example.label for example in examples], dtype=np.int64),
            "probabilities": np.array([example.probabilities for example in examples]),
            "reasons": np.array(["; ".join(example.reasons) for example in examples]),
            "images": example_set.images,
            "layers": np.array(example_set.layers),
            "output_layer": np.array(example_set.output_layer),
            **{f"layer:{name}": values for name, values in example_set.activations.items()},
        },
    )


def load_example_set(path: str | os.PathLike) -> ExampleSet:
    """Read back what :func:`save_example_set` stored."""
    stored = load_arrays(path)
    examples = tuple(
        Example(int(index), int(label), probabilities, tuple(str(reasons).split("; ")))
        for index, label, probabilities, reasons in zip(
            stored["indices"], stored["labels"], stored["probabilities"], stored["reasons"]
        )
    )
    activations = {str(name): stored[f"layer:{name}"] for name in stored["layers"]}
    return ExampleSet(examples, stored["images"], activations, str(stored["output_layer"]))
