# Sourced by tests/slurm/*.t.sh after tests/tap.sh: a one-node Slurm on
# localhost whose every file (munge key and socket, slurm.conf, state, spool,
# logs) lives in $tmp/slurm, so it touches nothing of the machine's own setup.
#   slurm_start   -- 0 when sinfo shows the node idle, else 1 with $slurm_why
#   slurm_stop    -- ends the daemons it started (by their pid files)
# Daemons run as the current user (root in CI: slurmd must be root to start
# jobs as the submitting user; as another user it runs jobs as that user).

slurm_dir=$tmp/slurm
slurm_why=""

slurm_log_tail() {
  local f
  for f in "$slurm_dir"/munged.log "$slurm_dir"/slurmctld.log "$slurm_dir"/slurmd.log; do
    [ -s "$f" ] && { echo "# --- $f (last lines)"; tail -n 15 "$f" | sed 's/^/#   /'; }
  done
}

slurm_stop() {
  local p pid
  for p in slurmd slurmctld munged; do
    [ -s "$slurm_dir/$p.pid" ] || continue
    pid=$(cat "$slurm_dir/$p.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$slurm_dir/$p.pid"
  done
}

slurm_start() {
  local user port=$((20000 + $$ % 20000)) mem
  user=$(id -un)
  mkdir -p "$slurm_dir"/{state,spool,munge}
  chmod 700 "$slurm_dir/munge"
  for prog in munged mungekey slurmctld slurmd sbatch sinfo squeue; do
    command -v "$prog" >/dev/null || { slurm_why="$prog is not installed (Debian packages slurm-wlm, munge)"; return 1; }
  done
  mungekey -c -k "$slurm_dir/munge/munge.key" 2>"$slurm_dir/mungekey.err" ||
    { slurm_why="mungekey failed: $(cat "$slurm_dir/mungekey.err")"; return 1; }
  chmod 400 "$slurm_dir/munge/munge.key"
  munged -f --key-file="$slurm_dir/munge/munge.key" --socket="$slurm_dir/munge/munge.socket" \
    --pid-file="$slurm_dir/munged.pid" --log-file="$slurm_dir/munged.log" --seed-file="$slurm_dir/munge/seed" \
    2>>"$slurm_dir/munged.log" || { slurm_why="munged did not start"; return 1; }
  mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
  cat >"$slurm_dir/slurm.conf" <<CONF
ClusterName=stratatest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$slurm_dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$slurm_dir/spool
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurm_dir/slurmd.pid
SlurmctldLogFile=$slurm_dir/slurmctld.log
SlurmdLogFile=$slurm_dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$slurm_dir/slurm.conf
  slurmctld -D -i >>"$slurm_dir/slurmctld.log" 2>&1 &
  echo $! >"$slurm_dir/slurmctld.pid"
  slurmd -D -N localhost >>"$slurm_dir/slurmd.log" 2>&1 &
  echo $! >"$slurm_dir/slurmd.pid"
  for _ in $(seq 60); do
    [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = idle ] && return 0
    sleep 0.5
  done
  slurm_why="the node did not become idle within 30 s (sinfo: $(sinfo -h -o '%t %E' 2>&1 | head -1))"
  return 1
}
