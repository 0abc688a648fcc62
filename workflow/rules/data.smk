# The data stage: the configured data set (MNIST, Fashion-MNIST or an .npz) as six prepared
# .npy splits, the manifest and the overview figure.

from cnnlens.data import SPLIT_FILES
from cnnlens.datasets import source_files


rule prepare_data:
    """Obtain the data set (checksum-verified where published) and save six prepared splits."""
    input:
        library=library_of("prepare_data"),
        source=source_files(SETTINGS.data),
    output:
        **{name: f"results/data/{name}.npy" for name in SPLIT_FILES},
        manifest="results/data/manifest.json",
        overview=report(
            "results/data/overview.png", caption="../report/data_overview.rst", category="1 Data"
        ),
    params:
        data=config["data"],
        preprocessing=config["model"]["preprocessing"],
        class_names=CLASS_NAMES,
    log:
        log_path("prepare_data"),
    benchmark:
        benchmark_path("prepare_data")
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/prepare_data.py"


TARGETS.extend(rules.prepare_data.output)
