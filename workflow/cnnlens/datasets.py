"""The data sets the workflow reads (``data.dataset``) and what the plan needs to know of one
before any job runs: image shape, split sizes, class names, label range.

:func:`facts` reads no image: for ``mnist`` and ``fashion_mnist`` the published facts, for
``npz`` the arrays' headers and the labels. Every problem it finds is a one-line
:class:`~cnnlens.errors.CnnLensError` naming the key and the fix. NumPy only.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from cnnlens import mnist
from cnnlens.errors import CnnLensError
from cnnlens.settings import Data

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What the plan knows of a data set before reading its images."""

    image_shape: tuple[int, int, int]  # (H, W, C)
    train_size: int
    test_size: int
    class_names: tuple[str, ...] | None  # None: the label numbers
    label_count: int  # largest label + 1

    def names_for(self, classes: int) -> tuple[str, ...]:
        """The class names of a model with ``classes`` outputs."""
        return self.class_names or tuple(str(label) for label in range(classes))


def facts(data: Data) -> DatasetFacts:
    """The facts of the configured data set (a one-line error when they cannot be known)."""
    if data.dataset == "npz":
        return npz_facts(data)
    if data.source_dir:
        mnist.check_source_dir(data.source_dir)
    names = FASHION_CLASSES if data.dataset == "fashion_mnist" else MNIST_CLASSES
    return DatasetFacts(
        image_shape=mnist.IMAGE_SHAPE,
        train_size=mnist.SPLIT_SIZES["train"],
        test_size=mnist.SPLIT_SIZES["test"],
        class_names=names,
        label_count=len(names),
    )


def npz_facts(data: Data) -> DatasetFacts:
    """Shapes from the arrays' headers, labels read and checked."""
    if not data.file:
        raise CnnLensError("data.dataset is npz but data.file is not set; set it to your .npz file")
    path = Path(data.file).expanduser()
    if not path.is_file():
        raise CnnLensError(f"data.file: no file {path}; fix the path in config.yaml")
    shapes = npz_shapes(path)
    for split in ("train", "test"):
        images, labels = shapes[f"x_{split}"], shapes[f"y_{split}"]
        if len(images) not in (3, 4) or (len(images) == 4 and images[3] not in (1, 3)):
            raise CnnLensError(
                f"data.file {path}: x_{split} has shape {images}; give images as (N, H, W) or "
                "(N, H, W, C) with C = 1 or 3"
            )
        if len(labels) != 1 or labels[0] != images[0]:
            raise CnnLensError(
                f"data.file {path}: x_{split} holds {images[0]} images but y_{split} has shape "
                f"{labels}; give one integer label per image"
            )
    if shapes["x_train"][1:] != shapes["x_test"][1:]:
        raise CnnLensError(
            f"data.file {path}: x_train images are {shapes['x_train'][1:]} but x_test images "
            f"{shapes['x_test'][1:]}; give both splits the same image shape"
        )
    image = shapes["x_train"][1:]
    return DatasetFacts(
        image_shape=(image[0], image[1], image[2] if len(image) == 3 else 1),
        train_size=shapes["x_train"][0],
        test_size=shapes["x_test"][0],
        class_names=tuple(data.class_names) if data.class_names else None,
        label_count=npz_label_count(path),
    )


def npz_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The shape of each of the four arrays, read from their ``.npy`` headers only."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(name).stem: name for name in archive.namelist()}
            missing = [key for key in NPZ_KEYS if key not in members]
            if missing:
                raise CnnLensError(
                    f"data.file {path} lacks {', '.join(missing)}; an .npz needs the arrays "
                    f"{', '.join(NPZ_KEYS)}"
                )
            shapes = {}
            for key in NPZ_KEYS:
                with archive.open(members[key]) as member:
                    version = npy_format.read_magic(member)
                    read_header = (
                        npy_format.read_array_header_1_0
                        if version == (1, 0)
                        else npy_format.read_array_header_2_0
                    )
                    shape, _, _ = read_header(member)
                    shapes[key] = tuple(int(side) for side in shape)
            return shapes
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise CnnLensError(
            f"data.file {path} is not a readable .npz ({error}); save it with numpy.savez"
        ) from None


def npz_label_count(path: Path) -> int:
    """Largest label + 1, after checking the labels are non-negative integers."""
    with np.load(path, allow_pickle=False) as archive:
        labels = [np.asarray(archive[key]) for key in ("y_train", "y_test")]
    for key, values in zip(("y_train", "y_test"), labels, strict=True):
        if not np.issubdtype(values.dtype, np.integer):
            raise CnnLensError(
                f"data.file {path}: {key} is {values.dtype}; give integer class labels"
            )
        if values.size and values.min() < 0:
            raise CnnLensError(f"data.file {path}: {key} has negative labels; use 0..classes-1")
    return int(max(values.max() for values in labels if values.size)) + 1
