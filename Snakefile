"""cnnlens: look inside a convolutional network.

Run everything with `snakemake --cores all`; see README.md for the stages and config.yaml for
what can be tuned. Each rule file registers the files of its stage in TARGETS, which the
default target `all` builds.
"""

import re
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
include: "workflow/rules/atlas.smk"
include: "workflow/rules/attribution.smk"
include: "workflow/rules/oip_study.smk"
include: "workflow/rules/trainings.smk"


# Light rules (figures, bookkeeping) run where snakemake runs, never as cluster jobs (the
# per-layer oip_gather_* and oip_figures_* rules say so themselves: they are made in a loop).
localrules:
    all,
    training_figures,
    activation_figures,
    compare_classes,
    dream_photo,
    atlas_site,
    attribution_figures,
    attribution_summary,
    oip_study,


wildcard_constraints:
    layer="|".join(re.escape(name) for name in (*NETWORK.conv_layers, *NETWORK.dense_layers)),
    first=r"\d+",
    second=r"\d+",
    last=r"\d{3}",
    index=r"\d+",
    photo="|".join(re.escape(name) for name in PHOTOS),


rule all:
    """Build every stage: data, model, activation grids, OIPs, dreams and the atlas."""
    default_target: True
    input:
        TARGETS,
