# ipvs-syncd-vm.sh CONF OURS — run INSIDE the VM by ipvs-syncd.test.ts. keepalived 2.2.7 (-P: the
# VRRP process, which drives the sync daemon) and then ours run CONF, whose instance owns its
# address (priority 255) on a dummy interface and so becomes MASTER at once. The sync daemons
# (ipvsadm -Ln --daemon) are printed once the master daemon runs, and after the stop:
#   === WHO master|stop   then ipvsadm -Ln --daemon
set -u
conf=$1
ours=$2
modprobe ip_vs || exit 3
modprobe dummy || exit 3
ip link add kts0 type dummy && ip link set kts0 multicast on && ip addr add 10.30.0.1/24 dev kts0 && ip link set kts0 up || exit 3
mkfifo /run/syncd-never
exec 9<>/run/syncd-never
pause() { read -r -t "$1" -u 9 || true; }
for who in keepalived ours; do
  if [ $who = keepalived ]; then
    keepalived -P -n -l -D -f "$conf" -p /run/ka-s.pid -r /run/ka-s-v.pid >/tmp/s-$who.log 2>&1 &
  else
    node "$ours" -P -n -l -f "$conf" -p /run/kt-s.pid -r /run/kt-s-v.pid >/tmp/s-$who.log 2>&1 &
  fi
  pid=$!
  for ((i = 0; i < 120; i++)); do
    ipvsadm -Ln --daemon | grep -q '^master' && break
    pause 1
  done
  # Whatever else it does after becoming MASTER (the backup daemon's stop) has time to land.
  pause 3
  echo "=== $who master"
  ipvsadm -Ln --daemon
  kill -TERM $pid
  for ((i = 0; i < 100; i++)); do kill -0 $pid 2>/dev/null || break; pause 0.2; done
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  echo "=== $who stop"
  ipvsadm -Ln --daemon
  echo "=== $who log"
  tail -n 15 /tmp/s-$who.log
done
echo "=== end"
