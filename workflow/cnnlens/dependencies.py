"""Which library files a workflow script depends on, for Snakemake's rerun decisions.

Snakemake reruns a job when its script changes, but not when a module the script imports does.
Rules therefore list :func:`library_files` of their script among their inputs: the ``cnnlens``
modules it imports, directly or through other ``cnnlens`` modules, and the packages'
``__init__.py`` files on the way. The imports are read with :mod:`ast`; nothing is executed.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = "cnnlens"
PACKAGE_ROOT = Path(__file__).resolve().parent


def imported_library_modules(source: Path) -> set[str]:
    """Dotted names of the ``cnnlens`` modules that ``source`` imports (any nesting level).

    Each file is parsed once per version (path, modification time, size): the rule files ask
    for many scripts that share most modules, and a no-op rerun should not parse them again.
    """
    status = Path(source).stat()
    return set(_parsed_imports(str(source), status.st_mtime_ns, status.st_size))


@functools.lru_cache(maxsize=None)
def _parsed_imports(source: str, modified_ns: int, size: int) -> frozenset[str]:
    """:func:`imported_library_modules` of one version of a file (the cache's key)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(Path(source).read_text(), filename=source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if _is_library(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_library(node.module):
            modules.add(node.module)
            # "from cnnlens import data" imports the module cnnlens.data
            modules.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if module_path(f"{node.module}.{alias.name}") is not None
            )
    return frozenset(modules)


def _is_library(name: str | None) -> bool:
    return name is not None and (name == PACKAGE or name.startswith(PACKAGE + "."))


@functools.cache
def module_path(dotted: str) -> Path | None:
    """The file of a ``cnnlens`` module or package, or None when there is none (looked up once
    per run: every rule file asks for the same modules)."""
    parts = dotted.split(".")[1:]
    package_dir = PACKAGE_ROOT.joinpath(*parts)
    candidates = [package_dir / "__init__.py"]
    if parts:
        candidates.insert(0, package_dir.with_name(parts[-1] + ".py"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _with_parent_packages(dotted: str) -> list[str]:
    """``a.b.c`` -> ``[a, a.b, a.b.c]``: importing a module runs its packages' ``__init__``."""
    parts = dotted.split(".")
    return [".".join(parts[: end + 1]) for end in range(len(parts))]


def library_files(script: str | Path) -> list[str]:
    """Sorted paths of every library file ``script`` imports, followed transitively."""
    pending = [Path(script)]
    seen_files: set[Path] = set()
    while pending:
        for dotted in imported_library_modules(pending.pop()):
            for name in _with_parent_packages(dotted):
                path = module_path(name)
                if path is not None and path not in seen_files:
                    seen_files.add(path)
                    pending.append(path)
    return sorted(str(path) for path in seen_files)
