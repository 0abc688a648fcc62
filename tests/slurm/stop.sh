#!/usr/bin/env bash
# Stop the one-node SLURM cluster that tests/slurm/start.sh started: cancel its jobs, then end
# each daemon whose PID start.sh recorded under $CNNLENS_SLURM_DIR (default /tmp/cnnlens-slurm),
# by that PID only, and wait until it has exited. A cluster not started by start.sh is left alone.
set -uo pipefail

STATE_DIR="${CNNLENS_SLURM_DIR:-/tmp/cnnlens-slurm}"

say() { echo "[slurm stop] $*" >&2; }

# The PID in $STATE_DIR/$1.pid if that process is alive and is the program $2.
running_pid() {
    local file="$STATE_DIR/$1.pid" pid
    [[ -s $file ]] || return 1
    pid=$(tr -dc 0-9 <"$file")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]] || return 1
    echo "$pid"
}

# Send TERM to daemon $1 (program $2), wait up to 30 s for it to exit, then KILL it.
stop_daemon() {
    local pid
    pid=$(running_pid "$1" "$2") || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 60; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "stopped $1 ($pid)"
            rm -f "$STATE_DIR/$1.pid"
            return 0
        fi
        sleep 0.5
    done
    say "$1 ($pid) ignored TERM for 30 s: killing it"
    kill -KILL "$pid" 2>/dev/null
    rm -f "$STATE_DIR/$1.pid"
}

if [[ ! -d $STATE_DIR ]]; then
    say "nothing to stop: $STATE_DIR does not exist"
    exit 0
fi
if running_pid slurmctld slurmctld >/dev/null; then
    jobs=$(squeue -h -o %i 2>/dev/null)
    if [[ -n $jobs ]]; then
        say "cancelling jobs: $(echo $jobs)"
        scancel $jobs 2>/dev/null
        sleep 1
    fi
fi
stop_daemon slurmd slurmd
stop_daemon slurmctld slurmctld
stop_daemon slurmdbd slurmdbd
stop_daemon mariadb/mariadb mariadbd
stop_daemon munge/munged munged
exit 0
