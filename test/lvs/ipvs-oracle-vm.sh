# ipvs-oracle-vm.sh DIR OURS — run INSIDE the VM (test/helpers/vm/vm-run.sh) by ipvs-oracle.test.ts.
# For every DIR/*.conf, keepalived 2.2.7 (-C: the checker process, which programs IPVS) and then
# ours (node OURS -C) run with the same config against the VM's real kernel IPVS. Each time the
# table starts holding one foreign service (-t 10.255.0.1:1, not in any config: who touches it?)
# and IPVS's default timeouts. Optional files beside NAME.conf drive more phases:
#   NAME.listen   TCP ports a listener serves on every local address (the checkers' real servers
#                 that are up), from before the daemon starts to after it stopped
#   NAME.hold     seconds (N.N) the table must stay the same to be settled (the checkers' verdicts:
#                 delay_loop × (retry+1) + connect_timeout, and some), 1.5 without it
#   NAME.gone     ports whose listener stops after the start: the "gone" phase
#   NAME.reload   a second configuration copied over the first, then SIGHUP: the "reload" phase
# The kernel's table is printed once it has settled after the start, after each phase, and again
# after the daemon stopped:
#   === NAME keepalived|ours start|gone|reload|stop   then `ipvsadm -Sn | sort`, `ipvsadm -Ln --timeout`, `--tun-info` and `--daemon`
#   === NAME keepalived|ours log            the daemon's own output, when a phase did not settle or it did not stop
#   === time NAME WHO: ...                  how long each phase took to settle, and the stop
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
# settle BEFORE HOLD: polls (bounded: 120 s; node takes 20-30 s to start under TCG on a busy host)
# until the kernel's table (/proc/net/ip_vs: read without an exec) differs from BEFORE and stays
# the same for HOLD seconds (N.N; reads 0.5 s apart, at least 3), with no ipvsadm or modprobe running.
settle() {
  local before=$1 reads=$(((10#${2/./} + 4) / 5)) last="" same=0 now i
  [ $reads -lt 3 ] && reads=3
  for ((i = 0; i < 240; i++)); do
    now=$(</proc/net/ip_vs)
    if [ "$now" = "$last" ] && [ "$now" != "$before" ] && ! changing; then
      same=$((same + 1))
      [ $same -ge $reads ] && return 0
    else
      same=0
    fi
    last=$now
    pause 0.5
  done
  return 1
}

# The checkers' real servers: one process (a process start costs seconds under TCG) that accepts
# and closes connections on the ports given, on every local address, and stops listening on a
# port when told `close PORT` through its control FIFO.
cat >/run/oracle-listen.py <<'PY'
import os, selectors, socket, sys
ctl, ready, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
sel = selectors.DefaultSelector()
socks = {}
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(p)))
    s.listen(64)
    s.setblocking(False)
    socks[p] = s
    sel.register(s, selectors.EVENT_READ)
c = os.open(ctl, os.O_RDWR)
sel.register(c, selectors.EVENT_READ)
open(ready, 'w').close()
buf = b''
while True:
    for key, _ in sel.select():
        if key.fileobj == c:
            buf += os.read(c, 4096)
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                word = line.decode().split()
                if word == ['exit']:
                    sys.exit(0)
                if len(word) == 2 and word[0] == 'close' and word[1] in socks:
                    sel.unregister(socks[word[1]])
                    socks.pop(word[1]).close()
        else:
            try:
                key.fileobj.accept()[0].close()
            except OSError:
                pass
PY
mkfifo /run/oracle-ctl
listener=""
listen_start() {
  local ports
  rm -f /run/oracle-ready
  read -r ports <"$1"
  python3 /run/oracle-listen.py /run/oracle-ctl /run/oracle-ready $ports &
  listener=$!
  for ((i = 0; i < 120; i++)); do [ -e /run/oracle-ready ] && return 0; pause 0.5; done
  echo "listener did not start" >&2
  return 1
}
listen_stop() {
  [ -n "$listener" ] || return 0
  echo exit >/run/oracle-ctl
  wait "$listener" 2>/dev/null
  listener=""
}

# phase PHASE: after the change PHASE just made to the table $before, waits for the table to
# settle and prints it.
phase() {
  local t=$EPOCHREALTIME
  settle "$before" "$hold" || ok=0
  t1=$EPOCHREALTIME
  times+=", $1 in $(elapsed "$t" "$t1") s"
  echo "=== $name $who $1"
  snapshot
}

for conf in "$dir"/*.conf; do
  name=$(basename "$conf" .conf)
  hold=1.5
  [ -e "$dir/$name.hold" ] && read -r hold <"$dir/$name.hold"
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
    [ -e "$dir/$name.listen" ] && { listen_start "$dir/$name.listen" || exit 3; }
    # The daemon reads its own copy: the reload phase writes over it.
    cp "$conf" "/run/$name.conf"
    before=$(</proc/net/ip_vs)
    log=/tmp/$name-$who.log
    if [ $who = keepalived ]; then
      keepalived -C -n -l -D -f "/run/$name.conf" -p "/run/ka-$name.pid" -c "/run/ka-$name-c.pid" >"$log" 2>&1 &
    else
      node "$ours" -C -n -l -f "/run/$name.conf" -p "/run/kt-$name.pid" -c "/run/kt-$name-c.pid" >"$log" 2>&1 &
    fi
    pid=$!
    t0=$EPOCHREALTIME
    ok=1
    settle "$before" "$hold" || ok=0
    t1=$EPOCHREALTIME
    times="start settled in $(elapsed "$t0" "$t1") s"
    echo "=== $name $who start"
    snapshot
    if [ -e "$dir/$name.gone" ]; then
      before=$(</proc/net/ip_vs)
      for port in $(<"$dir/$name.gone"); do echo "close $port" >/run/oracle-ctl; done
      phase gone
    fi
    if [ -e "$dir/$name.reload" ]; then
      before=$(</proc/net/ip_vs)
      cp "$dir/$name.reload" "/run/$name.conf"
      kill -HUP $pid
      phase reload
    fi
    kill -TERM $pid
    for ((i = 0; i < 100; i++)); do kill -0 $pid 2>/dev/null || break; pause 0.2; done
    if kill -0 $pid 2>/dev/null; then
      ok=0
      kill -KILL $pid
    fi
    wait $pid
    rc=$?
    # 143: SIGTERM's status, when the daemon died of it rather than exiting.
    if [ $rc != 0 ] && [ $rc != 143 ]; then
      ok=0
      echo "=== $name $who exit status $rc"
    fi
    listen_stop
    echo "=== time $name $who: $times, stopped in $(elapsed "$t1" "$EPOCHREALTIME") s"
    echo "=== $name $who stop"
    snapshot
    if [ $ok = 0 ]; then
      echo "=== $name $who log"
      tail -n 30 "$log"
    fi
  done
done
echo "=== end"
