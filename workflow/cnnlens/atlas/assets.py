"""The pictures of the atlas's pages, written once each, named by what they show.

Paths returned are relative to the atlas root (``results/atlas``). A test image's thumbnail
is shared by every page that shows it; a unit's pictures live in ``{layer}/img/``. Test
images, OIPs and dreams of a grey model are grey (OIPs through the OIP colour map), of a
colour model in colour, all over the model's input range ``display_range``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from cnnlens.atlas import imaging
from cnnlens.files import atomic_path
from cnnlens.oip.results import SearchResult

#: Pixels on the longer side of the dream thumbnails (photos are shown smooth, not enlarged).
DREAM_SIDE = 240


@dataclass
class Assets:
    """Writes pictures under ``root``: test images and OIPs enlarged ``scale`` times and shown
    over ``display_range``, grey OIPs through the colour ``oip_table`` (colour ones as they
    are), activation tiles through ``tile_table``, GIF frames ``frame_ms`` each;
    ``colour_model`` for a colour model (its dreams kept in colour)."""

    root: Path
    scale: int
    oip_table: np.ndarray
    tile_table: np.ndarray
    frame_ms: int
    display_range: tuple[float, float] = imaging.DISPLAY_RANGE
    colour_model: bool = False
    written: set[str] = field(default_factory=set)

    def test_image(self, images: np.ndarray, index: int) -> str:
        """The thumbnail of test image ``index`` (written on first use)."""
        relative = f"images/test_{index:05d}.png"
        if relative not in self.written:
            imaging.save_png(self._shown(images[index]), self.root / relative, self.scale)
            self.written.add(relative)
        return relative

    def oip_views(self, layer: str, unit: int, image: np.ndarray) -> tuple[str, str]:
        """The OIP in its two views: colour map (grey OIP) or its colours (colour OIP), and
        contrast-enhanced (each channel of a colour OIP on its own)."""
        plain = self._write(layer, unit, "oip.png", *self._oip_pixels(image))
        enhanced = self._write(layer, unit, "oip_enhanced.png", imaging.enhanced(image))
        return plain, enhanced

    def restarts(self, layer: str, unit: int, images: np.ndarray) -> str:
        """All restarts' final images side by side (restart 0 first)."""
        pixels = [self._oip_pixels(image) for image in images]
        palette = pixels[0][1]
        row = imaging.strip([picture for picture, _ in pixels],
                            fill=imaging.WHITE if palette is not None else 255)
        return self._write(layer, unit, "restarts.png", row, palette)

    def evolution(self, layer: str, unit: int, snapshots: np.ndarray) -> str:
        """The best restart's snapshots as an animated GIF."""
        pixels = [self._oip_pixels(image) for image in snapshots]
        relative = f"{layer}/img/unit_{unit:03d}_evolution.gif"
        imaging.save_gif([picture for picture, _ in pixels], self.root / relative,
                         pixels[0][1], self.scale, self.frame_ms)
        return relative

    def node_grid(self, layer: str, unit: int, nodes: np.ndarray) -> str:
        """The node OIPs (h, w, H, W[, 3]) of a map as one grid, node (0, 0) top left."""
        cells = np.array([[self._shown(image) for image in row] for row in nodes])
        return self._write(layer, unit, "nodes.png", imaging.grid(cells))

    def dream(self, layer: str, unit: int, name: str, source: Path) -> str:
        """A thumbnail of a dream image (grey, or in colour for a colour model), its longer
        side at most :data:`DREAM_SIDE`."""
        relative = f"{layer}/img/unit_{unit:03d}_dream_{name}.png"
        with Image.open(source) as picture:
            thumbnail = picture.convert("RGB" if self.colour_model else "L")
            thumbnail.thumbnail((DREAM_SIDE, DREAM_SIDE))
            with atomic_path(self.root / relative) as temporary:
                thumbnail.save(temporary, format="PNG", optimize=True)
        return relative

    def activation_tile(self, test_index: int, layer: str, unit: int, tile: np.ndarray,
                        low: float, high: float) -> str:
        """A selected image's activation map of one unit, at its own resolution."""
        relative = f"images/test_{test_index:05d}/{layer}_{unit:03d}.png"
        imaging.save_png(imaging.levels(tile, low, high), self.root / relative, 1,
                         self.tile_table)
        return relative

    def colour(self, value: float, low: float, high: float) -> str:
        """``#rrggbb`` of ``value`` on the tile colour map over [low, high]."""
        red, green, blue = imaging.coloured(np.array([value]), self.tile_table, low, high)[0]
        return f"#{red:02x}{green:02x}{blue:02x}"

    def _shown(self, image: np.ndarray) -> np.ndarray:
        """A model input (H, W) or (H, W, 3) as uint8 pixels over the display range."""
        return imaging.scaled(image, *self.display_range)

    def _oip_pixels(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """An OIP as drawn: palette indices and the OIP palette (grey), or colour pixels and
        no palette (colour)."""
        if imaging.is_colour(image):
            return self._shown(image), None
        return imaging.levels(image, *self.display_range), self.oip_table

    def _write(self, layer: str, unit: int, name: str, pixels: np.ndarray,
               palette: np.ndarray | None = None) -> str:
        """``{layer}/img/unit_NNN_{name}``: grey pixels, or palette indices with a palette."""
        relative = f"{layer}/img/unit_{unit:03d}_{name}"
        imaging.save_png(pixels, self.root / relative, self.scale, palette)
        return relative


def oip_of(result: SearchResult | None, unit: int) -> int | None:
    """The row of ``unit`` in a layer's search result (None: no OIP searched)."""
    if result is None:
        return None
    rows = np.flatnonzero(result.maps == unit)
    return int(rows[0]) if rows.size else None
