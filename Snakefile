"""cnnlens: look inside a small CNN trained on MNIST.

Run everything with `snakemake --cores all`; see README.md for the stages and config.yaml for
what can be tuned.
"""

from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


configfile: Path(workflow.basedir) / "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"


rule all:
    default_target: True
    input:
        rules.prepare_data.output,
        rules.train.output,
