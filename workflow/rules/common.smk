# What every file of workflow/rules uses: the validated config as a settings tree, the network
# the config describes, the checks the config alone can answer (made here, before any job
# starts), and the paths of logs, benchmarks and each script's library modules.

import os
import sys

from snakemake.exceptions import WorkflowError

from cnnlens import plan, runs, settings
from cnnlens.configuration import validate_config
from cnnlens.dependencies import library_files
from cnnlens.errors import CnnLensError

REPOSITORY = Path(workflow.basedir)

# The software environment of every rule (used with --software-deployment-method conda).
CONDA_ENV = "../envs/cnnlens.yaml"

# A bad config or input stops the run here, before any job, with one line (no traceback).
try:
    validate_config(config, REPOSITORY / "workflow" / "schemas" / "config.schema.yaml")
    # the network (model.file or model.architecture), the keys left to the model resolved
    # in config itself (so params carry them), every check of config against model and data
    START = plan.start(config)
    SETTINGS, NETWORK, CLASS_NAMES = START.settings, START.network, START.class_names
    PHOTOS = plan.photo_table(SETTINGS.dream.photos)  # photo name -> plan.Photo
except (CnnLensError, WorkflowError) as error:
    sys.exit(f"cnnlens error: {error}")

# A run killed with SIGKILL leaves its lock and temporary files: removed when no run is alive.
if workflow.is_main_process:
    for note in runs.start():
        print(f"cnnlens: {note}", file=sys.stderr)

# The files each stage contributes to the default target `all` (rule files extend it).
TARGETS = []


def library_of(script):
    """The library modules scripts/{script}.py imports: inputs, so editing them reruns the rule."""
    modules = library_files(REPOSITORY / "scripts" / f"{script}.py")
    # relative to the working directory, as Snakemake shows its other inputs
    return [os.path.relpath(module) for module in modules]


# Jobs that climb (OIP searches, node OIPs, dreams, the OIP study) compute on one CPU thread.
# Their images then do not depend on the machine's core count (oneDNN's sums split over
# threads round differently: OIPs climbed on 1 and 2 threads differ), and on a small machine
# two of them run side by side, which beats two threads in one job (measured on 2 cores:
# 2 threads are 1.4x as fast for 1.16x the CPU). More cores serve more jobs: layers, chunks
# of a layer (oip.maps_per_job), photos. Training keeps its threads (it gains from them).
ASCENT_THREADS = 1

# The jobs that head the longest chains after training start first (the OIP searches, whose
# results the figures, the single-map dreams and the atlas wait for; the read-out for the
# activation figures; the photo and the full-size dream), so that a small machine does not end
# its run on one long chain while its other cores idle.
LONG_JOB_PRIORITY = 1


def beside_another(threads):
    """A read-out job's threads: ``threads``, but at most half the cores this run may use, so
    that on a small machine it runs beside a figure job. Only for jobs whose results do not
    depend on the thread count (a forward pass in float32: checked equal on 1 and 2 threads);
    training keeps its threads, the climbing jobs take ASCENT_THREADS."""
    return max(1, min(threads, workflow.cores // 2))


def log_path(name):
    return f"results/logs/{name}.log"


def benchmark_path(name):
    return f"results/benchmarks/{name}.tsv"


def report_each(paths, labels, **report_arguments):
    """report() for each of several files, each with its own labels (one dict per file)."""
    pairs = zip(paths, labels, strict=True)
    return [report(path, labels=label, **report_arguments) for path, label in pairs]
