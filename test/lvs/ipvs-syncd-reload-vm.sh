# ipvs-syncd-reload-vm.sh OURS DIR — run INSIDE the VM by ipvs-syncd-reload.test.ts. A daemon
# runs DIR/a.conf (lvs_sync_daemon on kts0 with a VRRP instance that owns its address on kts0,
# so MASTER at once), then reloads (SIGHUP) with each of DIR/b.conf (another interface and
# syncid), DIR/c.conf (no lvs_sync_daemon: the running one is kept) and DIR/a.conf again, then stops. keepalived 2.2.7
# first, ours second. After each step, once the daemons settle, the kernel's sync daemons:
#   === WHO STEP        STEP: a, b, c, a-again, stop; then ipvsadm -Ln --daemon
set -u
ours=$1
dir=$2
. "$(dirname "$(dirname "$ours")")/test/lvs/lvs-lib-vm.sh"
modprobe ip_vs || exit 3
modprobe dummy || exit 3
for i in 0 1; do
  ip link add kts$i type dummy && ip link set kts$i multicast on && ip addr add 10.30.$i.1/24 dev kts$i && ip link set kts$i up || exit 3
done
daemons() { ipvsadm -Ln --daemon; }
# settle WANT: until the daemons' list holds WANT (a grep pattern; '' for none), then 2 s more
# for whatever else the reload does; at most 120 s (TCG on a busy machine).
settle() {
  if [ -n "$1" ]; then wait_for 120 sh -c "ipvsadm -Ln --daemon | grep -q '$1'"; else wait_for 120 sh -c '[ -z "$(ipvsadm -Ln --daemon)" ]'; fi
  pause 2
}
# reloads LOG: the reloads the daemon has logged (keepalived "Reloading", ours also "Reload finished").
reloads() { grep -c Reload "$1"; }
for who in keepalived ours; do
  cp "$dir/a.conf" /tmp/lvs-r.conf
  if [ $who = keepalived ]; then
    keepalived -P -n -l -D -f /tmp/lvs-r.conf -p /tmp/lvs-r.pid -r /tmp/lvs-r-v.pid >/tmp/lvs-r-$who.log 2>&1 &
  else
    mkdir -p /tmp/lvs-r.d
    TMPDIR=/tmp/lvs-r.d node "$ours" -P -n -l -f /tmp/lvs-r.conf -p /tmp/lvs-r.pid -r /tmp/lvs-r-v.pid >/tmp/lvs-r-$who.log 2>&1 &
  fi
  pid=$!
  settle 'master.*kts0'
  echo "=== $who a"
  daemons
  # c drops lvs_sync_daemon: keepalived keeps the running daemon.
  for step in b:'master.*kts1' c:'master.*kts1' a-again:'master.*kts0'; do
    name=${step%%:*}
    cp "$dir/${name%-again}.conf" /tmp/lvs-r.conf
    n=$(reloads /tmp/lvs-r-$who.log)
    kill -HUP $pid
    wait_for 120 sh -c "[ \$(grep -c Reload /tmp/lvs-r-$who.log) -gt $n ]" || echo "no reload logged"
    settle "${step#*:}"
    echo "=== $who $name"
    daemons
  done
  kill -TERM $pid
  wait_for 20 sh -c "! kill -0 $pid 2>/dev/null"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  echo "=== $who stop"
  daemons
  echo "=== $who log"
  grep -v '"level":20' /tmp/lvs-r-$who.log | tail -n 12
  # keepalived may leave a daemon behind: the next run starts from none.
  ipvsadm --stop-daemon master 2>/dev/null
  ipvsadm --stop-daemon backup 2>/dev/null
  rm -rf /tmp/lvs-r*
done
echo "=== end"
