"""One image's activation of a layer as a grid of tiles: one tile per map (conv/pool) or per
node (dense), never dropping one, values raw or standardised per map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.settings import Grid, GridLayout
from cnnlens.tiles import grid_shape, standardise_tiles, tile_mosaic

VALUE_MODES = ("raw", "standardised")
STANDARDISED_LIMITS = (0.0, 255.0)


@dataclass(frozen=True)
class LayerGrid:
    """A layer's activations as tiles in a mosaic, ready to draw.

    ``tiles`` (count, height, width) are the values as drawn; ``mosaic`` puts them ``columns``
    per row with no gap (the plot draws thin lines between tiles, whatever their size) and NaN
    in the empty cells after the last tile. ``value_range`` is the raw activations' range;
    ``classes`` says that the tiles are the model's outputs, one per class, named by
    ``class_names`` (empty: by number).
    """

    layer: str
    shape: tuple[int, ...]
    tiles: np.ndarray
    mosaic: np.ndarray
    rows: int
    columns: int
    values: str
    limits: tuple[float, float]
    value_range: tuple[float, float]
    classes: bool
    class_names: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.tiles.shape[0]

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.tiles.shape[1], self.tiles.shape[2]

    @property
    def is_spatial(self) -> bool:
        """True for conv/pool maps, False for the nodes of a dense (or flatten) layer."""
        return len(self.shape) == 3

    @property
    def unit_name(self) -> str:
        return "map" if self.is_spatial else "node"

    @property
    def constant_units(self) -> np.ndarray:
        """The maps whose tile is one flat value (e.g. a ReLU map silent for this image);
        standardised, they show the middle colour. Empty for dense layers (1x1 tiles)."""
        if not self.is_spatial:
            return np.zeros(0, dtype=np.int64)
        flat = self.tiles.reshape(self.count, -1)
        return np.flatnonzero(flat.max(axis=1) == flat.min(axis=1))


def layer_tiles(activation: np.ndarray) -> np.ndarray:
    """One image's layer activation as tiles: (H, W, C) -> (C, H, W); (N,) -> (N, 1, 1)."""
    values = np.asarray(activation)
    if values.ndim == 3:
        return np.moveaxis(values, -1, 0)
    if values.ndim == 1:
        return values.reshape(-1, 1, 1)
    raise CnnLensError(
        f"cannot tile an activation of shape {values.shape}; expected (H, W, maps) or (nodes,)"
    )


def scale_tiles(tiles: np.ndarray, values: str) -> np.ndarray:
    """The tiles as drawn: raw, or standardised per tile (x - mean) / std * 64 + 128.

    A 1x1 tile (a dense node) cannot be standardised on its own, so a dense layer's nodes are
    standardised together.
    """
    if values not in VALUE_MODES:
        raise CnnLensError(f"activations.grid.values is {values!r}; use one of {VALUE_MODES}")
    if values == "raw":
        return np.asarray(tiles, dtype=np.float64)
    if tiles.shape[1:] == (1, 1):
        return standardise_tiles(tiles.reshape(1, -1)).reshape(tiles.shape)
    return standardise_tiles(tiles)


def layer_grid(
    layer: str,
    activation: np.ndarray,
    layout: GridLayout,
    values: str,
    classes: bool = False,
    class_names: Sequence[str] = (),
) -> LayerGrid:
    """The grid of one image's ``activation`` of ``layer``, ``values`` raw or standardised;
    ``classes`` marks the output layer, whose nodes are the classes (``class_names``)."""
    tiles = layer_tiles(activation)
    spatial = np.asarray(activation).ndim == 3
    columns = min(layout.columns if spatial else layout.dense_columns, len(tiles))
    drawn = scale_tiles(tiles, values)
    value_range = (float(np.min(tiles)), float(np.max(tiles)))
    return LayerGrid(
        layer=layer,
        shape=tuple(np.shape(activation)),
        tiles=drawn,
        mosaic=tile_mosaic(drawn, columns=columns, gap=0),
        rows=grid_shape(len(tiles), columns)[0],
        columns=columns,
        values=values,
        limits=STANDARDISED_LIMITS if values == "standardised" else value_range,
        value_range=value_range,
        classes=classes,
        class_names=tuple(class_names) if classes else (),
    )


def layer_grids(
    activations: Mapping[str, np.ndarray],
    grid: Grid,
    output_layer: str,
    class_names: Sequence[str] = (),
) -> list[LayerGrid]:
    """The grids of one image's ``activations`` ({layer: activation}), in their order, drawn
    as ``grid`` says; the nodes of ``output_layer`` are the classes (``class_names``)."""
    return [
        layer_grid(
            layer, activation, grid, grid.values, classes=layer == output_layer,
            class_names=class_names,
        )
        for layer, activation in activations.items()
    ]
