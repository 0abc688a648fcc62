"""cnnlens: look inside a small CNN trained on MNIST.

Run everything with `snakemake --cores all`; see README.md for the stages and config.yaml for
what can be tuned. Each rule file registers the files of its stage in TARGETS, which the
default target `all` builds.
"""

from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


configfile: Path(workflow.basedir) / "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/oip.smk"
include: "workflow/rules/dream.smk"


rule all:
    """Build every stage: data, model, activation grids, OIPs and dreams."""
    default_target: True
    input:
        TARGETS,
