# The data stage: verified MNIST as six standardised .npy splits.

from cnnlens.data import SPLIT_FILES


rule prepare_data:
    """Obtain the real MNIST (checksum-verified) and save six standardised .npy splits."""
    input:
        library=library_of("prepare_data"),
    output:
        **{name: f"results/data/{name}.npy" for name in SPLIT_FILES},
        manifest="results/data/manifest.json",
        overview=report(
            "results/data/overview.png", caption="../report/data_overview.rst", category="1 Data"
        ),
    params:
        data=config["data"],
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
