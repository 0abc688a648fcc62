"""The rule files and the glue they use stay light: no TensorFlow, no matplotlib, so that
``snakemake -n`` is fast and works where TensorFlow cannot be imported."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "matplotlib")


def imported_modules(statement: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter has loaded after ``statement``."""
    listing = "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    code = f"{statement}\nimport sys\n{listing}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "workflow"), "PATH": "/usr/bin:/bin"},
    )
    return set(result.stdout.split())


def test_the_modules_the_rule_files_import_load_no_heavy_library() -> None:
    rule_imports = set()
    for rule_file in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        text = rule_file.read_text()
        for module, names in re.findall(r"^from (cnnlens[\w.]*) import (.+)$", text, re.M):
            rule_imports.add(module)
            if module == "cnnlens":
                rule_imports |= {f"cnnlens.{name.strip()}" for name in names.split(",")}
    assert {"cnnlens.plan", "cnnlens.settings"} <= rule_imports
    loaded = imported_modules("\n".join(f"import {module}" for module in sorted(rule_imports)))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_a_dry_run_works_where_tensorflow_cannot_be_imported(fresh_workspace, tmp_path) -> None:
    blocked = tmp_path / "blocked"
    for name in ("tensorflow", "keras"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked')\n")
    environment = fresh_workspace.environment()
    environment["PYTHONPATH"] = f"{blocked}:{environment['PYTHONPATH']}"
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "2"],
        cwd=fresh_workspace.root, env=environment, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "oip_search" in result.stdout and "dream_fine" in result.stdout
