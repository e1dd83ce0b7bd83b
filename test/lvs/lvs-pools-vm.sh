# lvs-pools-vm.sh OURS — run INSIDE the VM by lvs-pools.test.ts. One director (ours) with two
# pools of two real servers each, checked by TCP_CHECK:
#   LVS-DR   10.41.0.100:7000 -> r1 10.41.0.21, r2 10.41.0.22 (on the client's bridge, VIP on lo)
#   LVS-NAT  10.41.0.101:7001 -> n1 10.42.0.21, n2 10.42.0.22 (behind the director, which is their gateway)
#   fwmark 7 (NAT)    10.41.0.102:7002, marked by an nftables rule in the director -> n1, n2 :7002
#   group G (NAT)     virtual_server_group 10.41.0.103-104 7003 -> n1, n2 :7003
# The client cl (10.41.0.50) makes short connections through every VIP; then r1's and n1's
# servers stop, and once the checker has taken them out of the kernel table, the client again.
# Output:
#   === PHASE           before | after
#   SERVICE SERVER COUNT   the answers by real server (or `fail REASON`); SERVICE is dr, nat,
#                          fwmark, group103 or group104
#   removed dr S | removed nat S   seconds from the stop until ipvsadm -Ln lacks the server (or `never`)
set -u
ours=$1
. "$(dirname "$(dirname "$ours")")/test/lvs/lvs-lib-vm.sh"
modprobe ip_vs || exit 3

lab_bridge
lab_nat_director
ip -n dir addr add 10.41.0.100/24 dev eth0
ip -n dir addr add 10.41.0.101/24 dev eth0
for a in 102 103 104; do ip -n dir addr add 10.41.0.$a/24 dev eth0; done
# The fwmark service's traffic: marked before IPVS sees it (IPVS hooks LOCAL_IN, after mangle).
ip netns exec dir nft -f - <<'EOF' || echo "nft failed"
table ip lvs {
  chain pre {
    type filter hook prerouting priority mangle;
    ip daddr 10.41.0.102 tcp dport 7002 meta mark set 7
  }
}
EOF
lab_ns cl 10.41.0.50/24
for r in r1:21 r2:22; do
  lab_ns "${r%:*}" "10.41.0.${r#*:}/24"
  lab_dr_real "${r%:*}" 10.41.0.100
  ip netns exec "${r%:*}" $PY /run/lvs-echo.py "${r%:*}" 7000 &
  echo $! >"/tmp/lvs-${r%:*}.pid"
done
for n in n1:21 n2:22; do
  ns=${n%:*}
  lab_nat_real "$ns" "10.42.0.${n#*:}/24"
  ip netns exec "$ns" $PY /run/lvs-echo.py "$ns" 7001 7002 7003 &
  echo $! >"/tmp/lvs-$ns.pid"
done

cat >/tmp/lvs-dir.conf <<'EOF'
virtual_server 10.41.0.100 7000 {
  delay_loop 2
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.41.0.21 7000 {
    TCP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.41.0.22 7000 {
    TCP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
}
virtual_server 10.41.0.101 7001 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.42.0.21 7001 {
    TCP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.42.0.22 7001 {
    TCP_CHECK {
      connect_timeout 2
      retry 1
      delay_before_retry 1
    }
  }
}
virtual_server fwmark 7 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  real_server 10.42.0.21 7002 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
  real_server 10.42.0.22 7002 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
virtual_server_group G {
  10.41.0.103-104 7003
}
virtual_server group G {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.42.0.21 7003 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
  real_server 10.42.0.22 7003 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
EOF
mkdir -p /tmp/lvs-dir.d
TMPDIR=/tmp/lvs-dir.d ip netns exec dir node "$ours" -n -l -f /tmp/lvs-dir.conf -p /tmp/lvs-dir-p.pid >/tmp/lvs-dir.log 2>&1 &
daemon=$!

wait_for 180 sh -c "[ \$(ip netns exec dir ipvsadm -Ln | grep -c -- '-> 10.4') -eq 10 ]" || echo "not 10 real servers in the table"

traffic() { # traffic PHASE
  echo "=== $1"
  local s name addr port
  for s in dr:10.41.0.100:7000 nat:10.41.0.101:7001 fwmark:10.41.0.102:7002 group103:10.41.0.103:7003 group104:10.41.0.104:7003; do
    IFS=: read -r name addr port <<<"$s"
    ip netns exec cl $PY /run/lvs-many.py "$addr" "$port" "$2" 0.05 | sort | uniq -c | awk -v s="$name" '{ print s, $2, ($3 == "" ? $1 : $3 " " $1) }'
  done
}
echo "=== table before"
ip netns exec dir ipvsadm -Ln
traffic before 20

# r1 and n1 stop (SIGKILL: their port then refuses) at t0; the checker must take them out.
t0=$(cs)
kill -9 "$(cat /tmp/lvs-r1.pid)" "$(cat /tmp/lvs-n1.pid)"
dr= nat=
while [ $(($(cs) - t0)) -lt 6000 ] && [ -z "$dr" -o -z "$nat" ]; do
  table=$(ip netns exec dir ipvsadm -Ln)
  el=$(($(cs) - t0))
  [ -n "$dr" ] || grep -q 10.41.0.21: <<<"$table" || dr=$((el / 100)).$((el % 100 / 10))
  [ -n "$nat" ] || grep -q 10.42.0.21: <<<"$table" || nat=$((el / 100)).$((el % 100 / 10))
  pause 0.2
done
echo "=== removed"
echo "removed dr ${dr:-never}"
echo "removed nat ${nat:-never}"
traffic after 20
echo "=== table after"
ip netns exec dir ipvsadm -Ln
echo "=== log"
grep -v '"level":20' /tmp/lvs-dir.log | tail -n 12
kill -TERM $daemon
wait_for 10 sh -c "! kill -0 $daemon 2>/dev/null"
echo "=== end"
lab_clear
