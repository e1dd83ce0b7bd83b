# lvs-failover-vm.sh OURS — run INSIDE the VM by lvs-failover.test.ts. A director pair on a
# bridge: d1 (priority 150, MASTER) and d2 (100, BACKUP) run VRRP for the VIP 10.40.0.100 and an
# LVS-DR virtual server VIP:7000 to the real server rs (VIP on lo); cl holds one TCP connection
# through the VIP, a line every 100 ms, each echo awaited. Then d1 fails: its daemon gets SIGKILL
# and its link goes down at once. This models a director that dies (power, kernel panic): a
# killed daemon alone would leave its VIP, master sync daemon and IPVS table running in the
# kernel, and d1 would keep forwarding. d2 takes the VIP over; the connection survives only if
# d2's kernel already knew it, from IPVS's sync daemon (lvs_sync_daemon).
#
# Scenarios, each on a fresh lab:   D1-D2-SYNC   in  ours-ours-sync ours-ours-nosync keepalived-ours-sync
# Output per scenario:
#   === SCENARIO
#   backup-conn yes|no          d2's ipvsadm -Lnc held the connection before the failure
#   master d2 after S           d2 held the VIP S seconds after the failure
#   client ok lines=N ... | client error ...   the long client's end, once 30 lines more were
#                               echoed after the failure or it failed (or 40 s passed)
#   lines-after N               lines echoed after the failure
# then `=== log d2 SCENARIO`: the tail of d2's log (without debug lines).
set -u
ours=$1
shift
# This script runs from a copy; its library is in the repository beside the daemon's bundle.
. "$(dirname "$(dirname "$ours")")/test/lvs/lvs-lib-vm.sh"
modprobe ip_vs || exit 3
VIP=10.40.0.100

conf() { # conf NAME PRIORITY STATE SYNC
  cat <<EOF
global_defs {
  router_id $1
  $([ "$4" = sync ] && echo 'lvs_sync_daemon eth0 VI_1')
}
vrrp_instance VI_1 {
  state $3
  interface eth0
  virtual_router_id 51
  priority $2
  advert_int 1
  virtual_ipaddress {
    $VIP/24
  }
}
virtual_server $VIP 7000 {
  delay_loop 3
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.40.0.20 7000 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
EOF
}

start() { # start NS WHO SYNC PRIORITY STATE
  local ns=$1 who=$2
  conf "$ns" "$4" "$5" "$3" >"/tmp/lvs-$ns.conf"
  mkdir -p "/tmp/lvs-$ns.d"
  if [ "$who" = keepalived ]; then
    ip netns exec "$ns" keepalived -n -l -D -f "/tmp/lvs-$ns.conf" -p "/tmp/lvs-$ns.pid" -r "/tmp/lvs-$ns-v.pid" -c "/tmp/lvs-$ns-c.pid" \
      >"/tmp/lvs-$ns.log" 2>&1 &
  else
    TMPDIR=/tmp/lvs-$ns.d ip netns exec "$ns" node "$ours" -n -l -D -f "/tmp/lvs-$ns.conf" -p "/tmp/lvs-$ns.pid" -r "/tmp/lvs-$ns-v.pid" \
      -c "/tmp/lvs-$ns-c.pid" >"/tmp/lvs-$ns.log" 2>&1 &
  fi
}

scenario() { # scenario D1 D2 SYNC
  local d1=$1 d2=$2 sync=$3 t0 t1 i base
  echo "=== $d1-$d2-$sync"
  lab_clear
  lab_bridge
  lab_ns d1 10.40.0.1/24
  lab_ns d2 10.40.0.2/24
  lab_ns rs 10.40.0.20/24
  lab_ns cl 10.40.0.50/24
  lab_dr_real rs $VIP
  ip netns exec rs $PY /run/lvs-echo.py rs 7000 &
  start d1 "$d1" "$sync" 150 MASTER
  wait_for 180 has_addr d1 $VIP || echo "no VIP on d1"
  start d2 "$d2" "$sync" 100 BACKUP
  # Both kernels have the real server (its TCP_CHECK passed), the backup its sync daemon if any.
  wait_for 180 sh -c "ip netns exec d1 ipvsadm -Ln | grep -q 10.40.0.20:7000 && ip netns exec d2 ipvsadm -Ln | grep -q 10.40.0.20:7000" ||
    echo "no real server in the tables"
  [ "$sync" = nosync ] || wait_for 90 sh -c 'ip netns exec d2 ipvsadm -Ln --daemon | grep -q ^backup' || echo "no backup sync daemon on d2"
  ip netns exec cl $PY /run/lvs-long.py $VIP 7000 /tmp/lvs-count /tmp/lvs-stop >/tmp/lvs-client.out 2>&1 &
  local client=$!
  wait_for 90 sh -c '[ "$(cat /tmp/lvs-count 2>/dev/null || echo 0)" -ge 20 ]' || echo "the client got no 20 echoes"
  # The master's sync daemon sends its buffer about every 2 s: give it up to 30 (6 where none runs, as the answer is no).
  if wait_for $([ "$sync" = sync ] && echo 30 || echo 6) sh -c "ip netns exec d2 ipvsadm -Lnc | grep -q 'ESTABLISHED.*10.40.0.50:.*$VIP:7000'"; then
    echo "backup-conn yes"
  else
    echo "backup-conn no"
  fi
  base=$(lines /tmp/lvs-count)
  t0=$(now)
  kill -9 $(cat /tmp/lvs-d1.pid /tmp/lvs-d1-v.pid /tmp/lvs-d1-c.pid 2>/dev/null | sort -u) 2>/dev/null
  ip -n d1 link set eth0 down
  if wait_for 60 has_addr d2 $VIP; then
    t1=$(now)
    echo "master d2 after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  else
    echo "master d2 never"
  fi
  wait_for 120 sh -c "! kill -0 $client 2>/dev/null || [ \$(cat /tmp/lvs-count) -ge $((base + 30)) ]"
  touch /tmp/lvs-stop
  wait $client
  echo "client $(cat /tmp/lvs-client.out)"
  echo "lines-after $(($(lines /tmp/lvs-count) - base))"
  echo "=== log d2 $d1-$d2-$sync"
  grep -v '"level":20' /tmp/lvs-d2.log | tail -n 8
  echo "=== end"
  kill -TERM $(cat /tmp/lvs-d2.pid 2>/dev/null) 2>/dev/null
  wait_for 10 sh -c '! kill -0 $(cat /tmp/lvs-d2.pid 2>/dev/null) 2>/dev/null'
}

for s in "$@"; do
  IFS=- read -r a b c <<<"$s"
  scenario "$a" "$b" "$c"
done
lab_clear
