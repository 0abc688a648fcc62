"""Shared fixtures: a copy of the repository in a temporary directory, and the tiny pipeline
run through the real ``snakemake`` command inside it.

The copy makes the tests independent of the checkout's own ``results/``, and lets tests edit
config and library files (``PYTHONPATH`` points Snakemake and its scripts at the copy's
library, so the copy is self-contained).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
TINY_CONFIG = "tests/tiny_config.yaml"
COPIED_ENTRIES = (
    "Snakefile", "config.yaml", "configs", "workflow", "scripts", "profiles", "tests",
    "pyproject.toml",
)
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", "results")


@dataclass
class Workspace:
    """A copy of the repository where the real ``snakemake`` command is run."""

    root: Path
    console: str = ""  # what the session's tiny run printed (stdout, then stderr)

    def environment(self) -> dict[str, str]:
        """The environment for snakemake: the copy's library first on the import path."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.root / "workflow"), *filter(None, [env.get("PYTHONPATH")])]
        )
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return env

    def snakemake(
        self, *arguments: str, check: bool = True, config_files: tuple[str, ...] = (TINY_CONFIG,)
    ) -> subprocess.CompletedProcess:
        """Run ``snakemake`` in the copy with the tiny configuration (or ``config_files``, each
        merged over the one before) and 2 cores."""
        command = [
            sys.executable, "-m", "snakemake", *arguments, "--cores", "2",
            "--configfile", *config_files,  # last: it takes several values
        ]
        result = subprocess.run(
            command, cwd=self.root, env=self.environment(), capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
            )
        return result

    def path(self, relative: str) -> Path:
        return self.root / relative


def make_workspace(directory: Path) -> Workspace:
    """Copy the repository's workflow files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in COPIED_ENTRIES:
        source = REPOSITORY / entry
        if source.is_dir():
            shutil.copytree(source, directory / entry, ignore=IGNORED)
        else:
            shutil.copy2(source, directory / entry)
    return Workspace(directory)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The whole pipeline, run once per test session on the tiny configuration."""
    workspace = make_workspace(tmp_path_factory.mktemp("tiny_run"))
    result = workspace.snakemake()
    workspace.console = result.stdout + result.stderr
    return workspace


@pytest.fixture
def fresh_workspace(tmp_path: Path) -> Workspace:
    """An unrun copy of the repository, for tests that need their own runs."""
    return make_workspace(tmp_path)
