#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, from Debian's packages, for tests/test_slurm.py (root, no systemd).
#   tests/slurm/local_cluster.sh start STATE_DIR   install if needed, write /etc/slurm/slurm.conf, start munged,
#                                                  slurmctld and slurmd; returns once the node is idle
#   tests/slurm/local_cluster.sh stop STATE_DIR    stop the daemons it started, by their PID files
# The conf must sit at /etc/slurm/slurm.conf: the SLURM executor's job step drops SLURM_CONF. There is no
# accounting database: Snakemake must query job states with squeue (--slurm-status-command squeue), and
# squeue keeps finished jobs for MinJobAge seconds. Exit 3: this machine cannot run it (the reason on stderr).
set -euo pipefail
command=${1:?usage: local_cluster.sh start|stop STATE_DIR}
state=${2:?usage: local_cluster.sh start|stop STATE_DIR}
conf=/etc/slurm/slurm.conf

cannot() { echo "local_cluster.sh: cannot run a local SLURM here: $*" >&2; exit 3; }

stop_pid_file() {  # TERM, then KILL after 5 s, the daemon whose pid is in $1
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [ "$command" = stop ]; then
  stop_pid_file "$state/run/slurmd.pid"
  stop_pid_file "$state/run/slurmctld.pid"
  stop_pid_file "$state/run/munged.pid"
  if [ -f "$state/conf_written" ]; then rm -f "$conf" "$state/conf_written"; fi
  exit 0
fi
[ "$command" = start ] || { echo "usage: local_cluster.sh start|stop STATE_DIR" >&2; exit 2; }

[ "$(id -u)" = 0 ] || cannot "not root (it installs packages and writes $conf)"
command -v apt-get > /dev/null || cannot "no apt-get (Debian packages slurmctld, slurmd, slurm-client, munge)"
if [ -e "$conf" ] && [ ! -f "$state/conf_written" ]; then
  # a conf of this script with no controller running was left by an interrupted run: take it over
  if head -n 1 "$conf" | grep -q "written by tests/slurm/local_cluster.sh" && ! pgrep -x slurmctld > /dev/null; then
    echo "local_cluster.sh: replacing $conf left by an interrupted run" >&2
  else
    cannot "$conf exists: a SLURM is configured here already"
  fi
fi
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge; } \
    > "${TMPDIR:-/tmp}/local_cluster_apt.log" 2>&1 || cannot "apt-get install failed (${TMPDIR:-/tmp}/local_cluster_apt.log)"
fi
[ -f /etc/munge/munge.key ] || cannot "no /etc/munge/munge.key (the munge package's install makes it)"

mkdir -p "$state"/{state,spool,log,run} /etc/slurm /run/munge
node=$(hostname -s)
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$conf" <<CONF
# written by tests/slurm/local_cluster.sh; removed by its stop
ClusterName=local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=300
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
touch "$state/conf_written"
chown munge:munge /run/munge  # munged runs as munge and writes its pid file there (the state folder may be private)
rm -f /run/munge/munged.pid
runuser -u munge -- /usr/sbin/munged
for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
cp /run/munge/munged.pid "$state/run/munged.pid"
/usr/sbin/slurmctld -i
/usr/sbin/slurmd
for _ in $(seq 300); do
  [ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ] && { echo "local SLURM up: node $node, $(nproc) CPUs, ${memory_mb} MB"; exit 0; }
  sleep 0.2
done
echo "local_cluster.sh: the node did not come up in 60 s; logs in $state/log" >&2
exit 1
