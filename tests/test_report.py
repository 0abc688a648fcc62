"""The HTML report: every stage's figures in categories with captions, and it opens in a real
browser (headless Chromium) showing the OIP gallery."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

CATEGORIES = ("1 Data", "2 Training", "3 Activations", "4 OIPs", "5 Dreams", "6 Atlas")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
# Opens the OIP category's first layer and shows its sheet of OIPs, as a click would.
SHOW_OIP_GALLERY = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const sheet = Object.keys(results).find(path => /oips\\/Conv2D_1\\/sheet.png$/.test(path));
  app.setView({navbarMode: "subcategory", category: "4 OIPs", subcategory: "Conv2D_1",
               content: "img", contentPath: results[sheet].data_uri, resultPath: sheet});
}, 500));
</script>"""


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``snakemake --report report.zip`` after the tiny run (written outside its results/,
    which other tests compare file by file; a zip, as the atlas is a directory entry),
    unpacked: its ``report.html``."""
    directory = tmp_path_factory.mktemp("report")
    archive = directory / "report.zip"
    tiny_run.snakemake("--report", str(archive))
    with zipfile.ZipFile(archive) as packed:
        packed.extractall(directory)
    return directory / "report" / "report.html"


def embedded(report: Path, variable: str) -> dict:
    """A JSON object the report embeds as ``var NAME = {...};``."""
    text = report.read_text()
    match = re.search(rf"var {variable} = (\{{.*?\}});\n", text, flags=re.DOTALL)
    assert match, variable
    return json.loads(match.group(1))


def test_report_has_every_stage_in_categories(report: Path) -> None:
    categories = embedded(report, "categories")
    assert set(CATEGORIES) <= set(categories)
    assert "Conv2D_1" in categories["4 OIPs"]
    results = embedded(report, "results")
    paths = set(results)
    for expected in (
        "results/data/overview.png",
        "results/model/training.png",
        "results/model/metrics.json",
        "results/oips/Conv2D_1/sheet.png",
        "results/oips/Conv2D_1/summary.csv",
        "results/atlas/index.html",
        "results/activations/examples.csv",
        "results/activations/compare/4_vs_9/separation.png",
    ):
        assert expected in paths, expected
    assert any(path.startswith("results/dreams/") for path in paths)
    assert all(entry["caption"] for entry in results.values()), "every result has a caption"
    # per-map and per-image figures are in the atlas, not separate entries
    assert not any(re.search(r"oips/.*/map_\d{3}(_evolution)?\.png$", path) for path in paths)
    assert not any(path.startswith("results/activations/test_") for path in paths)
    assert (report.parent / results["results/atlas/index.html"]["data_uri"]).is_file()


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CNNLENS_BROWSER"),
    reason="headless Chromium is not installed (apt-get install chromium; CI sets CNNLENS_BROWSER)",
)
def test_report_opens_in_chromium_on_the_oip_gallery(report: Path) -> None:
    assert chromium(), "CNNLENS_BROWSER is set but chromium is not installed"
    page = report.with_name("report_oip_gallery.html")
    text = report.read_text()
    body_end = text.rfind("</body>")
    page.write_text(text[:body_end] + SHOW_OIP_GALLERY + text[body_end:])
    screenshot = report.with_name("report_screenshot.png")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,900",
             "--virtual-time-budget=8000", f"--screenshot={screenshot}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    pixels = imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (900, 1400)
    # The sheet of OIPs fills the content pane with many distinct colours, not a blank page.
    content = pixels[:, 400:]
    assert content.std() > 0.1
    assert len(np.unique((content * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 500
