"""The tiny pipeline submitted to a real SLURM cluster with profiles/slurm gives the local run's
outputs, and the rules that ask for a GPU get one.

Needs a SLURM cluster answering on this machine: `sudo bash tests/slurm/start.sh` starts a
one-node one with fake GPUs (`bash tests/slurm/stop.sh` stops it), and .ci/run does so. Without
a cluster the tests are skipped, unless CNNLENS_SLURM=1: then they fail. The partition and
account default to the cluster's default partition and start.sh's account `cnnlens` (or the
user's default account); CNNLENS_SLURM_PARTITION and CNNLENS_SLURM_ACCOUNT override them.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import TINY_CONFIG, Workspace, make_workspace

pytestmark = pytest.mark.pipeline

# A job that can never start (more CPUs, memory or GPUs than any node has) would hang the run.
RUN_TIMEOUT_SECONDS = 1200
# The local run compared with (conftest's tiny_run) has 2 cores: the SLURM jobs get no more
# threads, so that TensorFlow splits its work alike and the results are bit for bit the same.
TINY_RUN_CORES = 2
REQUIRED = os.environ.get("CNNLENS_SLURM") == "1"
START_HINT = "start one with `sudo bash tests/slurm/start.sh`"
# Files whose content is timing or bookkeeping, not a result: only their presence is compared.
UNCOMPARED_FOLDERS = ("results/logs/", "results/benchmarks/")
# JSON keys and CSV columns that hold timings (training_seconds, seconds, Keras' date_saved) or
# Python object ids (Keras' shared_object_id): they differ between any two runs.
# Timings, save times, and the device line (a SLURM GPU job names its CUDA_VISIBLE_DEVICES).
VOLATILE_NAME = re.compile(r"seconds|date_saved|shared_object_id|device", re.IGNORECASE)


@dataclass(frozen=True)
class Cluster:
    """Where the test submits: a partition, an account, and the node's CPU count."""

    partition: str
    account: str
    cpus: int


def slurm_output(*command: str, timeout: float = 10) -> str:
    """Stdout of a SLURM client command (with a time limit: a missing controller hangs them)."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    return result.stdout.strip()


def cluster_answers() -> bool:
    if shutil.which("scontrol") is None:
        return False
    try:
        return "is UP" in slurm_output("scontrol", "ping")
    except (subprocess.SubprocessError, OSError):
        return False


def default_partition() -> str:
    """The partition sinfo marks with '*'."""
    for name in slurm_output("sinfo", "-h", "-o", "%P").split():
        if name.endswith("*"):
            return name.rstrip("*")
    raise AssertionError("the cluster has no default partition: set CNNLENS_SLURM_PARTITION")


def user_account() -> str:
    """start.sh's account `cnnlens` if the user has it, else the user's default account."""
    user = getpass.getuser()
    listed = slurm_output("sacctmgr", "-n", "-P", "show", "associations", f"user={user}",
                          "format=account").split()
    if "cnnlens" in listed:
        return "cnnlens"
    default = slurm_output("sacctmgr", "-n", "-P", "show", "user", user, "format=defaultaccount")
    if not default:
        raise AssertionError(f"user {user} has no SLURM account: set CNNLENS_SLURM_ACCOUNT")
    return default


def node_cpus(partition: str) -> int:
    """The fewest CPUs of a node in the partition: no job may ask for more."""
    counts = slurm_output("sinfo", "-h", "-p", partition, "-o", "%c").split()
    return min(int(count) for count in counts)


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    if not cluster_answers():
        message = f"no SLURM cluster answers `scontrol ping`: {START_HINT}"
        if REQUIRED:
            pytest.fail(f"CNNLENS_SLURM=1 but {message}")
        pytest.skip(f"{message}, or set CNNLENS_SLURM=1 to require these tests")
    partition = os.environ.get("CNNLENS_SLURM_PARTITION") or default_partition()
    account = os.environ.get("CNNLENS_SLURM_ACCOUNT") or user_account()
    return Cluster(partition, account, node_cpus(partition))


def local_profile(workspace: Workspace, cluster: Cluster) -> Path:
    """A profile layered over profiles/slurm: the edits its comments ask for, for this cluster.

    Partition and account are filled in, threads capped as in the local run (and at the node's
    CPUs: a job asking for more would pend forever), and the first status check comes after
    2 s, not 40 s.
    """
    project = yaml.safe_load(workspace.path("profiles/slurm/config.yaml").read_text())
    resources = dict(project["default-resources"])
    resources.update(slurm_partition=cluster.partition, slurm_account=cluster.account)
    overrides = {
        "default-resources": resources,
        "max-threads": min(cluster.cpus, TINY_RUN_CORES),
        "slurm-init-seconds-before-status-checks": 2,
    }
    folder = workspace.path("profiles/slurm-test")
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(overrides, sort_keys=False))
    return folder


def run_on_cluster(workspace: Workspace, profile: Path) -> str:
    """Run the whole tiny pipeline through SLURM; return Snakemake's log of the run."""
    command = [
        sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--profile",
        str(profile.relative_to(workspace.root)), "--configfile", TINY_CONFIG,
    ]
    try:
        result = subprocess.run(
            command, cwd=workspace.root, env=workspace.environment(), capture_output=True,
            text=True, timeout=RUN_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        queue = subprocess.run(["squeue", "-o", "%i %j %T %r"], capture_output=True, text=True)
        subprocess.run(["scancel", "--user", getpass.getuser()], check=False)
        raise AssertionError(
            f"snakemake on SLURM still running after {RUN_TIMEOUT_SECONDS} s; queue:\n"
            f"{queue.stdout}\n{str(error.stderr)[-4000:]}"
        ) from error
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{output[-8000:]}")
    # The quiet console (profiles/default) leaves the job blocks to Snakemake's log file.
    return newest_snakemake_log(workspace) or output


def newest_snakemake_log(workspace: Workspace) -> str:
    """The text of the run's .snakemake/log/*.snakemake.log (every job block is there)."""
    logs = sorted(workspace.path(".snakemake/log").glob("*.snakemake.log"))
    return logs[-1].read_text() if logs else ""


@dataclass(frozen=True)
class SubmittedJob:
    """One SLURM job of the run, with what Snakemake asked for it."""

    slurm_id: str
    rule: str
    wants_gpu: bool


def submitted_jobs(output: str) -> list[SubmittedJob]:
    """Pair Snakemake's job descriptions (rule, jobid, resources) with their SLURM job ids."""
    rules, gpu = {}, {}
    for block in re.split(r"\n(?=(?:rule|checkpoint|localrule) \w+:)", output):
        header = re.match(r"(?:rule|checkpoint) (\w+):", block)
        jobid = re.search(r"^\s+jobid: (\d+)$", block, re.MULTILINE)
        if header and jobid:
            rules[jobid.group(1)] = header.group(1)
            resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
            gpu[jobid.group(1)] = bool(resources and re.search(r"\bgpu=[1-9]", resources.group(1)))
    submissions = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", output)
    return [SubmittedJob(slurm, rules[job], gpu[job]) for job, slurm in submissions]


def accounting(slurm_ids: list[str]) -> dict[str, tuple[str, str]]:
    """State and allocated TRES of each job, from sacct (slurmdbd)."""
    table = slurm_output("sacct", "-X", "-n", "-P", "-j", ",".join(slurm_ids),
                         "-o", "JobIDRaw,State,AllocTRES")
    return {row[0]: (row[1], row[2]) for row in csv.reader(io.StringIO(table), delimiter="|")}


def without_volatile(value):
    """JSON data with timing keys and object ids removed, at any depth."""
    if isinstance(value, dict):
        return {key: without_volatile(item) for key, item in value.items()
                if not VOLATILE_NAME.search(key)}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def comparable(name: str, content: bytes):
    """A file's content with what legitimately differs between two runs taken out.

    Zip containers (.keras, .npz) are compared member by member (their entries carry save
    times), JSON without timing keys, CSV without timing columns, anything else byte for byte.
    """
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {member: comparable(member, archive.read(member))
                    for member in archive.namelist()}
    if name.endswith(".json"):
        return without_volatile(json.loads(content))
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(content.decode()))) or [[]]
        kept = [i for i, column in enumerate(rows[0]) if not VOLATILE_NAME.search(column)]
        return [[row[i] for i in kept if i < len(row)] for row in rows]
    return content


# Stages built only as named targets, which other tests add to the local tiny run (their
# results, logs and benchmarks): not part of the default target the SLURM run builds.
NAMED_TARGET_STAGES = ("attribution", "oip_study", "trainings")


def result_files(workspace: Workspace) -> list[str]:
    """The default target's files (tests/test_attribution.py, test_oip_study.py and
    test_trainings.py add their named targets' files to the local tiny run)."""
    files = (path for path in workspace.root.glob("results/**/*") if path.is_file())
    names = (str(path.relative_to(workspace.root)) for path in files)
    return sorted(
        name for name in names if not any(stage in name for stage in NAMED_TARGET_STAGES)
    )


@pytest.fixture(scope="module")
def slurm_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory):
    """The whole tiny pipeline, submitted with profiles/slurm: its workspace, its SLURM jobs and
    Snakemake's output."""
    workspace = make_workspace(tmp_path_factory.mktemp("slurm_run"))
    profile = local_profile(workspace, cluster)
    started = time.monotonic()
    output = run_on_cluster(workspace, profile)
    seconds = time.monotonic() - started
    print(f"\ntiny pipeline on SLURM: {seconds:.0f} s")
    return workspace, submitted_jobs(output), output


def test_every_job_ran_as_a_completed_slurm_job(slurm_run) -> None:
    workspace, jobs, output = slurm_run
    assert jobs, f"no job was submitted to SLURM:\n{output[-4000:]}"
    assert {"prepare_data", "train"} <= {job.rule for job in jobs}
    states = accounting([job.slurm_id for job in jobs])
    not_completed = {job.rule: states.get(job.slurm_id) for job in jobs
                     if states.get(job.slurm_id, ("missing",))[0] != "COMPLETED"}
    assert not not_completed, f"jobs not COMPLETED in sacct: {not_completed}"


def test_gpu_rules_get_a_gpu_and_others_none(slurm_run) -> None:
    _, jobs, _ = slurm_run
    assert any(job.rule == "train" and job.wants_gpu for job in jobs), "train must ask for gpu=1"
    allocated = accounting([job.slurm_id for job in jobs])
    for job in jobs:
        has_gpu = "gres/gpu=1" in allocated[job.slurm_id][1]
        assert has_gpu == job.wants_gpu, (job, allocated[job.slurm_id])


def test_a_gpu_job_sees_cuda_visible_devices(cluster: Cluster) -> None:
    """What `--gpus=1` gives a job: SLURM sets CUDA_VISIBLE_DEVICES, so TensorFlow sees the GPU."""
    seen = slurm_output(
        "srun", "--gpus=1", "-p", cluster.partition, "-A", cluster.account, "-t", "1",
        "printenv", "CUDA_VISIBLE_DEVICES", timeout=60,
    )
    assert re.fullmatch(r"\d+(,\d+)*", seen), seen


def local_run(request: pytest.FixtureRequest) -> Workspace:
    """conftest's tiny_run, asked for only once the cluster is known to answer (as an argument,
    this session fixture would run the local pipeline before the cluster check could skip)."""
    return request.getfixturevalue("tiny_run")


def test_same_files_as_a_local_run(slurm_run, request: pytest.FixtureRequest) -> None:
    workspace, _, _ = slurm_run
    assert result_files(workspace) == result_files(local_run(request))


def test_same_results_as_a_local_run(slurm_run, request: pytest.FixtureRequest) -> None:
    workspace, _, _ = slurm_run
    tiny_run = local_run(request)
    different = [
        name for name in result_files(tiny_run)
        if not name.startswith(UNCOMPARED_FOLDERS)
        and comparable(name, workspace.path(name).read_bytes())
        != comparable(name, tiny_run.path(name).read_bytes())
    ]
    assert not different, f"differ between the SLURM and the local run: {different}"
