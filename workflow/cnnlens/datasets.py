"""The data sets the workflow reads (``data.dataset``) and what the plan needs to know of one
before any job runs: image shape, split sizes, class names, label range.

:func:`facts` reads no image: for ``mnist`` and ``fashion_mnist`` the published facts (once
their route is open: ``data.source_dir`` holds the files by name, or for Fashion-MNIST the
download cache has them or apt-get and dpkg can fetch them), for ``npz`` the arrays' headers
and the labels. Every problem it finds is a one-line :class:`~cnnlens.errors.CnnLensError`
naming the key and the fix. NumPy only.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from cnnlens import fashion_mnist, mnist
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
    check_class_names(data)
    if data.dataset == "npz":
        return npz_facts(data)
    if data.dataset == "fashion_mnist":
        return fashion_facts(data)
    if data.source_dir:
        mnist.check_source_dir(data.source_dir)
    return published_facts(mnist.IMAGE_SHAPE, mnist.SPLIT_SIZES, MNIST_CLASSES)


def check_class_names(data: Data) -> None:
    """``data.class_names`` only for an ``npz`` data set, each name once."""
    names = list(data.class_names or ())
    if names and data.dataset != "npz":
        raise CnnLensError(
            f"data.class_names is set, but {data.dataset} names its own classes; set "
            "data.class_names to null (it names the classes of an npz data set)"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CnnLensError(
            f"data.class_names lists {', '.join(map(repr, repeated))} more than once; give "
            "every class its own name"
        )


def fashion_facts(data: Data) -> DatasetFacts:
    """Fashion-MNIST's published facts, once its route is known to be open: the source
    directory holds the four files, or the package route has its files or its programs."""
    if data.source_dir:
        fashion_mnist.check_source_dir(data.source_dir)
    else:
        fashion_mnist.check_package_route(data.download_cache)
    return published_facts(fashion_mnist.IMAGE_SHAPE, fashion_mnist.SPLIT_SIZES, FASHION_CLASSES)


def published_facts(
    image_shape: tuple[int, int, int], sizes: dict[str, int], names: tuple[str, ...]
) -> DatasetFacts:
    """The facts of a published data set of ``names`` classes."""
    return DatasetFacts(
        image_shape=image_shape,
        train_size=sizes["train"],
        test_size=sizes["test"],
        class_names=names,
        label_count=len(names),
    )


def source_files(data: Data) -> list[str]:
    """The files the data stage reads that the workflow should watch: ``data.file`` of an
    ``npz`` data set (a changed file reruns the data stage)."""
    return [str(Path(data.file).expanduser())] if data.dataset == "npz" and data.file else []


def npz_facts(data: Data) -> DatasetFacts:
    """Shapes and dtypes from the arrays' headers, labels read and checked."""
    if not data.file:
        raise CnnLensError("data.dataset is npz but data.file is not set; set it to your .npz file")
    path = Path(data.file).expanduser()
    if not path.is_file():
        raise CnnLensError(f"data.file: no file {path}; fix the path in config.yaml")
    headers = npz_headers(path)
    shapes = {key: shape for key, (shape, _) in headers.items()}
    for split in ("train", "test"):
        check_npz_split(path, split, headers)
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


def check_npz_split(
    path: Path, split: str, headers: dict[str, tuple[tuple[int, ...], np.dtype]]
) -> None:
    """One split's images (N, H, W) or (N, H, W, 1|3), uint8 or float, with one label each."""
    images, image_type = headers[f"x_{split}"]
    labels, label_type = headers[f"y_{split}"]
    if len(images) not in (3, 4) or (len(images) == 4 and images[3] not in (1, 3)):
        raise CnnLensError(
            f"data.file {path}: x_{split} has shape {images}; give images as (N, H, W) or "
            "(N, H, W, C) with C = 1 or 3"
        )
    if not (image_type == np.uint8 or np.issubdtype(image_type, np.floating)):
        raise CnnLensError(
            f"data.file {path}: x_{split} is {image_type}; give uint8 (0..255) or float images "
            "(e.g. x.astype(numpy.uint8) or x.astype(numpy.float32))"
        )
    if not np.issubdtype(label_type, np.integer):
        raise CnnLensError(
            f"data.file {path}: y_{split} is {label_type}; give integer class labels"
        )
    if len(labels) != 1 or labels[0] != images[0]:
        raise CnnLensError(
            f"data.file {path}: x_{split} holds {images[0]} images but y_{split} has shape "
            f"{labels}; give one integer label per image"
        )
    if images[0] == 0:
        raise CnnLensError(f"data.file {path}: x_{split} holds no images; give at least one")


def npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of each of the four arrays, read from their ``.npy`` headers only."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(name).stem: name for name in archive.namelist()}
            missing = [key for key in NPZ_KEYS if key not in members]
            if missing:
                raise CnnLensError(
                    f"data.file {path} lacks {', '.join(missing)}; an .npz needs the arrays "
                    f"{', '.join(NPZ_KEYS)}"
                )
            headers = {}
            for key in NPZ_KEYS:
                with archive.open(members[key]) as member:
                    version = npy_format.read_magic(member)
                    read_header = (
                        npy_format.read_array_header_1_0
                        if version == (1, 0)
                        else npy_format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(member)
                    headers[key] = (tuple(int(side) for side in shape), np.dtype(dtype))
            return headers
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise CnnLensError(
            f"data.file {path} is not a readable .npz ({error}); save it with numpy.savez"
        ) from None


def npz_label_count(path: Path) -> int:
    """Largest label + 1, after checking the labels are non-negative (their dtype is checked
    from the headers)."""
    with np.load(path, allow_pickle=False) as archive:
        labels = {key: np.asarray(archive[key]) for key in ("y_train", "y_test")}
    for key, values in labels.items():
        if values.min() < 0:
            raise CnnLensError(f"data.file {path}: {key} has negative labels; use 0..classes-1")
    return int(max(values.max() for values in labels.values())) + 1
