"""The atlas written out: every page rendered from the Jinja2 templates in
``workflow/templates/atlas`` with its pictures, plus each layer's top-k tables.

Layout under the atlas root::

    index.html                 every layer's sheet as a clickable grid, the image pages
    style.css
    {layer}/index.html         the layer's sheet
    {layer}/unit_NNN.html      one page per map or node
    {layer}/top_images.csv     top k test images per unit (by its activation)
    {layer}/top_positions.csv  top k test images per unit (by its best position)
    {layer}/img/               the units' pictures
    images/test_NNNNN.html     one page per selected test image
    images/                    test image thumbnails and activation tiles

Every link is relative and every picture a file of the atlas: it works offline, from any
directory, with no server and no JavaScript.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from cnnlens.atlas import imaging, pages
from cnnlens.atlas.assets import Assets
from cnnlens.atlas.records import write_tables
from cnnlens.atlas.sources import AtlasData
from cnnlens.files import write_text

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "atlas"


@dataclass(frozen=True)
class Look:
    """How the atlas draws: thumbnail scale, units per image page, colour maps, GIF speed, and
    the range model inputs are shown over (:func:`cnnlens.atlas.imaging.display_range`)."""

    thumbnail_scale: int
    image_units: int
    oip_colormap: str
    tile_colormap: str
    frame_ms: int
    display_range: tuple[float, float] = imaging.DISPLAY_RANGE


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja2 environment: HTML escaped, an unknown variable an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_site(data: AtlasData, root: str | Path, look: Look) -> dict[str, int]:
    """Write the whole atlas under ``root`` (emptied first); return counts of what it holds."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    assets = Assets(
        root=root,
        scale=look.thumbnail_scale,
        oip_table=imaging.lookup_table(look.oip_colormap),
        tile_table=imaging.lookup_table(look.tile_colormap),
        frame_ms=look.frame_ms,
        display_range=look.display_range,
        colour_model=data.test_images.ndim == 4,
    )
    templates = environment()
    layers = [data.network.layer(name) for name in data.tables]
    units = sum(_unit_pages(data, assets, templates, root, layer) for layer in layers)
    images = _image_pages(data, assets, templates, root, look.image_units)
    for layer in layers:
        context = {"root": "../", "layer": pages.layer_context(data, assets, layer, "../")}
        _render(templates, "layer.html.j2", context, root / layer.name / "index.html")
        write_tables(data.tables[layer.name], root / layer.name, data.labels, data.predicted,
                     data.class_names)
    _render(templates, "index.html.j2", _index_context(data, assets, layers), root / "index.html")
    shutil.copyfile(TEMPLATES / "style.css", root / "style.css")
    counts = {"unit_pages": units, "image_pages": images, "files": _count_files(root),
              "bytes": sum(path.stat().st_size for path in root.rglob("*") if path.is_file())}
    log.info("atlas: %s", counts)
    return counts


def _unit_pages(data, assets, templates, root: Path, layer) -> int:
    table = data.tables[layer.name]
    for unit in range(table.units):
        context = pages.unit_context(data, assets, layer, unit)
        _render(templates, "unit.html.j2", context, root / pages.unit_page(layer.name, unit))
    return table.units


def _image_pages(data, assets, templates, root: Path, k: int) -> int:
    selected = next(iter(data.tables.values())).selected_index
    for position, index in enumerate(selected):
        context = pages.image_context(data, assets, position, int(index), k)
        _render(templates, "image.html.j2", context, root / pages.image_page(int(index)))
    return len(selected)


def _index_context(data: AtlasData, assets: Assets, layers) -> dict[str, Any]:
    selected = next(iter(data.tables.values())).selected_index
    return {
        "root": "",
        "layers": [pages.layer_context(data, assets, layer, "") for layer in layers],
        "images": [
            {**pages.example(data, assets, int(index), data.probabilities[index].max(), ""),
             "why": data.reasons.get(int(index), ""), "link": pages.image_page(int(index))}
            for index in selected
        ],
        "top_k": int(next(iter(data.tables.values())).top_index.shape[1]),
    }


def _render(templates: jinja2.Environment, name: str, context: dict, path: Path) -> None:
    write_text(path, templates.get_template(name).render(**context))


def _count_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file())
