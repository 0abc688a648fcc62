#!/usr/bin/env bash
# Start a real one-node SLURM cluster on this machine, for tests/test_slurm.py and for trying
# `snakemake --profile profiles/slurm` without a cluster at hand.
#
#   sudo bash tests/slurm/start.sh      # prints the partition and account to use
#   sudo bash tests/slurm/stop.sh       # stops exactly the daemons started here
#
# Debian 12's Slurm 22.05 (slurmctld, slurmd, slurmdbd with MariaDB for accounting, so that
# `sacct` answers as on a real cluster), munge for authentication, no systemd: every daemon is
# started here and its PID written under $CNNLENS_SLURM_DIR (default /tmp/cnnlens-slurm).
# The node offers $CNNLENS_SLURM_CPUS CPUs (default: 4 per core, so that the many short jobs of
# a test run overlap as they would on a cluster's nodes), a little less memory than
# `slurmd -C` reports, and $CNNLENS_SLURM_GPUS fake GPUs (default 2: character-device clones
# of /dev/null) so that `--gpus=1` jobs run with CUDA_VISIBLE_DEVICES set. Jobs run as the
# submitting user. Everything listens on 127.0.0.1 only. If a SLURM controller already
# answers, nothing is installed or started.
set -euo pipefail

STATE_DIR="${CNNLENS_SLURM_DIR:-/tmp/cnnlens-slurm}"
CLUSTER=cnnlens
PARTITION=cnnlens
ACCOUNT=cnnlens
DB_PORT="${CNNLENS_SLURM_DB_PORT:-13306}"
GPUS="${CNNLENS_SLURM_GPUS:-2}"
DB_PASSWORD=cnnlens-test-only
CONF_DIR=/etc/slurm
MARKER="# Written by cnnlens tests/slurm/start.sh"
NODE="$(hostname -s)"
PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)

say() { echo "[slurm start] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Poll `$@` every half second until it succeeds, for at most $1 seconds.
wait_for() {
    local seconds=$1; shift
    local tries=$((seconds * 2))
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

install_packages() {
    local missing=()
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$package")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        [[ $(id -u) == 0 ]] || die "installing packages needs root (run with sudo)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # policy-rc.d exit 101: no package may start its own daemon while being installed.
        local policy=/usr/sbin/policy-rc.d created_policy=""
        if [[ ! -e $policy ]]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
        fi
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$STATE_DIR/apt.log" 2>&1 \
            || { tail -20 "$STATE_DIR/apt.log" >&2; die "apt-get install failed"; }
        if [[ -n $created_policy ]]; then rm -f "$policy"; fi
    fi
}

# RealMemory a little below what slurmd detects, or the node is drained for "Low RealMemory".
node_memory_mb() {
    local detected
    detected=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    echo $((detected * 95 / 100))
}

write_configs() {
    if [[ -e $CONF_DIR/slurm.conf ]] && ! grep -qF "$MARKER" "$CONF_DIR/slurm.conf"; then
        die "$CONF_DIR/slurm.conf exists and was not written by this script: not overwriting it"
    fi
    mkdir -p "$CONF_DIR"
    local cpus memory
    cpus=${CNNLENS_SLURM_CPUS:-$(($(nproc) * 4))}
    memory=$(node_memory_mb)
    cat >"$CONF_DIR/slurm.conf" <<EOF
$MARKER: a one-node test cluster.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
# No cgroups here: linuxproc tracks job processes; task/none would warn about cpu binding, and
# binding itself fails when the node offers more CPUs than the hardware has: no binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
TaskPluginParam=None
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# The node offers the CPUs configured below, not only those the hardware has.
SlurmdParameters=config_overrides
MpiDefault=none
MailProg=/bin/true
# A job that names no memory gets this much per CPU, not the whole node.
DefMemPerCPU=1000
# Finished jobs stay visible to squeue this long (the status poll interval is far shorter).
MinJobAge=600
InactiveLimit=0
KillWait=10
Waittime=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:fake:$GPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    echo "$MARKER" >"$CONF_DIR/gres.conf"
    for ((gpu = 0; gpu < GPUS; gpu++)); do
        mknod -m 666 "$STATE_DIR/fake-gpu$gpu" c 1 3  # the device numbers of /dev/null
        echo "NodeName=$NODE Name=gpu Type=fake File=$STATE_DIR/fake-gpu$gpu" >>"$CONF_DIR/gres.conf"
    done
    cat >"$CONF_DIR/slurmdbd.conf" <<EOF
$MARKER
AuthType=auth/munge
DbdAddr=127.0.0.1
DbdHost=$NODE
SlurmUser=root
PidFile=$STATE_DIR/slurmdbd.pid
LogFile=$STATE_DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$CONF_DIR/slurmdbd.conf"
    chmod 644 "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"
}

start_munge() {
    local key=/etc/munge/munge.key
    if [[ ! -s $key ]]; then
        mungekey --create --keyfile="$key"
    fi
    chown munge:munge "$key" && chmod 400 "$key"
    mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        say "munged already running"
        return
    fi
    # munged runs as the munge user: its PID and log files live in a folder it owns.
    mkdir -p "$STATE_DIR/munge" && chown munge:munge "$STATE_DIR/munge"
    runuser -u munge -- /usr/sbin/munged --pid-file="$STATE_DIR/munge/munged.pid" \
        --log-file="$STATE_DIR/munge/munged.log"
    wait_for 20 sh -c 'munge -n | unmunge' \
        || die "munged did not start ($STATE_DIR/munge/munged.log)"
}

start_mariadb() {
    # mariadbd runs as the mysql user: its data, socket, PID and log live in a folder it owns.
    local home="$STATE_DIR/mariadb"
    mkdir -p "$home" && chown mysql:mysql "$home"
    mariadb-install-db --no-defaults --user=mysql --datadir="$home/data" --skip-test-db \
        --auth-root-authentication-method=socket >"$STATE_DIR/log/mariadb-install.log" 2>&1 \
        || die "mariadb-install-db failed ($STATE_DIR/log/mariadb-install.log)"
    /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$home/data" \
        --socket="$home/mariadb.sock" --pid-file="$home/mariadb.pid" \
        --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
        --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
        --log-error="$home/mariadb.log" \
        </dev/null >/dev/null 2>&1 &
    wait_for 60 mariadb-admin --no-defaults --socket="$home/mariadb.sock" ping \
        || die "MariaDB did not start ($home/mariadb.log)"
    mariadb --no-defaults --socket="$home/mariadb.sock" -u root <<EOF
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
}

start_slurm_daemons() {
    /usr/sbin/slurmdbd
    wait_for 60 sacctmgr -n show cluster \
        || die "slurmdbd did not answer ($STATE_DIR/log/slurmdbd.log)"
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" \
        Description="cnnlens tests" Organization=cnnlens >/dev/null
    sacctmgr -i add user "$(id -un)" Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
    /usr/sbin/slurmctld
    wait_for 60 scontrol ping || die "slurmctld did not start ($STATE_DIR/log/slurmctld.log)"
    /usr/sbin/slurmd
}

node_is_idle() {
    [[ $(sinfo -h -n "$NODE" -o %t 2>/dev/null) == idle ]]
}

cluster_answers() {
    scontrol ping 2>/dev/null | grep -q "is UP"
}

main() {
    if command -v scontrol >/dev/null && cluster_answers; then
        say "a SLURM controller is already running; using it as it is"
        sinfo
        return
    fi
    [[ $(id -u) == 0 ]] || die "starting the test cluster needs root (run with sudo)"
    [[ $STATE_DIR == /?*/?* ]] || die "CNNLENS_SLURM_DIR must be an absolute path two levels deep"
    local started=$SECONDS
    if compgen -G "$STATE_DIR/*.pid" >/dev/null || compgen -G "$STATE_DIR/*/*.pid" >/dev/null; then
        say "stopping the daemons of an earlier start that no longer answers"
        bash "$(dirname "${BASH_SOURCE[0]}")/stop.sh"
    fi
    rm -rf "$STATE_DIR"
    mkdir -p "$STATE_DIR"/{log,ctld,spool}
    install_packages
    write_configs
    start_munge
    start_mariadb
    start_slurm_daemons
    wait_for 60 node_is_idle || {
        sinfo -N -l >&2 || true
        tail -5 "$STATE_DIR/log/slurmd.log" >&2 || true
        die "node $NODE did not become idle"
    }
    sinfo
    say "cluster '$CLUSTER' up in $((SECONDS - started)) s: partition $PARTITION," \
        "account $ACCOUNT, $GPUS fake GPUs; state and logs in $STATE_DIR"
}

main "$@"
