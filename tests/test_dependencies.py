"""Rules list the library modules their scripts import, so editing one reruns them."""

from __future__ import annotations

from pathlib import Path

from cnnlens.dependencies import library_files

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def module_names(script: str) -> set[str]:
    return {Path(path).name for path in library_files(SCRIPTS / f"{script}.py")}


def test_train_depends_on_training_and_model_but_not_on_mnist_routes() -> None:
    names = module_names("train")
    assert {"training.py", "model.py", "runtime.py", "__init__.py", "training.py"} <= names
    assert "mnist.py" not in names


def test_prepare_data_depends_on_mnist_but_not_on_training() -> None:
    names = module_names("prepare_data")
    assert {"mnist.py", "data.py", "files.py", "errors.py"} <= names
    assert "training.py" not in names


def test_imports_are_followed_transitively(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("from cnnlens.plotting.training import plot_confusion\n")
    names = {str(Path(path).relative_to(Path(path).parents[1])) for path in library_files(script)}
    # the module, its package's __init__, and what the module imports (figures -> files)
    assert {"plotting/training.py", "plotting/__init__.py", "plotting/figures.py"} <= names
    assert {"cnnlens/files.py", "cnnlens/__init__.py"} <= names
