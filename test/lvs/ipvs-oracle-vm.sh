# ipvs-oracle-vm.sh DIR OURS — run INSIDE the VM (test/helpers/vm/vm-run.sh) by ipvs-oracle.test.ts.
# For every DIR/*.conf, keepalived 2.2.7 (-C: the checker process, which programs IPVS) and then
# ours (node OURS -C) run with the same config against the VM's real kernel IPVS. Each time the
# table starts holding one foreign service (-t 10.255.0.1:1, not in any config: who touches it?)
# and IPVS's default timeouts. The kernel's table is printed once it has settled after the start,
# and again after the daemon stopped:
#   === NAME keepalived|ours start|stop     then `ipvsadm -Sn | sort`, `ipvsadm -Ln --timeout`, `--tun-info` and `--daemon`
#   === NAME keepalived|ours log            the daemon's own output, when it did not settle or stop
#   === time NAME WHO: ...                  how long it took to settle (start to a stable table) and stop
set -u
dir=$1
ours=$2
modprobe ip_vs || exit 3

# Seconds between two $EPOCHREALTIME readings, in bash (every exec costs under TCG).
elapsed() {
  local us=$((${2/./} - ${1/./}))
  printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}
snapshot() {
  ipvsadm -Sn | sort
  ipvsadm -Ln --timeout
  echo "--tun-info"
  ipvsadm -Ln --tun-info
  echo "--daemon"
  ipvsadm -Ln --daemon
}
# A sleep without an exec (each exec costs up to a second under TCG): a read that times out on a
# FIFO nobody writes.
mkfifo /run/oracle-never
exec 9<>/run/oracle-never
pause() { read -r -t "$1" -u 9 || true; }
# Whether an ipvsadm (ours sends its batches through ipvsadm -R) or a modprobe (the kernel loads
# a scheduler's module on its first use, seconds under TCG) is running: the table is still changing.
changing() {
  local f comm
  for f in /proc/[0-9]*/comm; do
    { read -r comm <"$f"; } 2>/dev/null || continue
    [ "$comm" = ipvsadm ] || [ "$comm" = modprobe ] && return 0
  done
  return 1
}
# Polls (bounded: 120 s; node takes 20-30 s to start under TCG on a busy host) until the kernel's
# table (/proc/net/ip_vs: read without an exec) differs from the one before the start and stays
# the same for 4 reads, 0.5 s apart, with no ipvsadm or modprobe running.
settle() {
  local before=$1 last="" same=0 now i
  for ((i = 0; i < 240; i++)); do
    now=$(</proc/net/ip_vs)
    if [ "$now" = "$last" ] && [ "$now" != "$before" ] && ! changing; then
      same=$((same + 1))
      [ $same -ge 3 ] && return 0
    else
      same=0
    fi
    last=$now
    pause 0.5
  done
  return 1
}

for conf in "$dir"/*.conf; do
  name=$(basename "$conf" .conf)
  for who in keepalived ours; do
    ipvsadm -C
    # A sync daemon left by the one before (lvs_sync_daemon) would be seen as this one's.
    if [ -n "$(ipvsadm -Ln --daemon)" ]; then
      ipvsadm --stop-daemon master 2>/dev/null
      ipvsadm --stop-daemon backup 2>/dev/null
    fi
    ipvsadm --set 900 120 300
    ipvsadm -A -t 10.255.0.1:1 -s rr
    ipvsadm -a -t 10.255.0.1:1 -r 10.255.0.2:1 -m -w 1
    before=$(</proc/net/ip_vs)
    log=/tmp/$name-$who.log
    if [ $who = keepalived ]; then
      keepalived -C -n -l -D -f "$conf" -p "/run/ka-$name.pid" -c "/run/ka-$name-c.pid" >"$log" 2>&1 &
    else
      node "$ours" -C -n -l -f "$conf" -p "/run/kt-$name.pid" -c "/run/kt-$name-c.pid" >"$log" 2>&1 &
    fi
    pid=$!
    t0=$EPOCHREALTIME
    ok=1
    settle "$before" || ok=0
    t1=$EPOCHREALTIME
    echo "=== $name $who start"
    snapshot
    kill -TERM $pid
    for ((i = 0; i < 100; i++)); do kill -0 $pid 2>/dev/null || break; pause 0.2; done
    if kill -0 $pid 2>/dev/null; then
      ok=0
      kill -KILL $pid
    fi
    wait $pid 2>/dev/null
    echo "=== time $name $who: settled in $(elapsed "$t0" "$t1") s, stopped in $(elapsed "$t1" "$EPOCHREALTIME") s"
    echo "=== $name $who stop"
    snapshot
    if [ $ok = 0 ]; then
      echo "=== $name $who log"
      tail -n 30 "$log"
    fi
  done
done
echo "=== end"
