# vm-dataplane-vm.sh OURS SECONDS ROUNDS CONCURRENCY [WARM] — run INSIDE the VM by
# vm-dataplane.bench.mjs. One director (ours) in front of an LVS-NAT pool of three real servers,
# run in turn with --data-plane=kernel (IPVS) and --data-plane=forwarder on the same config, VIP
# and real servers:
#   client cl 10.41.0.50 -> VIP 10.41.0.100:7100 on dir -> s1..s3 10.42.0.21-23:7100 (dir is their gateway)
# A client in cl (one Python process forking CONCURRENCY loops) opens a connection, sends a line,
# reads the one-line answer (the real server's name) until the server closes; WARM seconds (3)
# not counted, then SECONDS counted, per plane. ROUNDS rounds, in the order kernel, forwarder |
# forwarder, kernel | ..., so that neither plane always runs first. Output, per measured run:
#   === run PLANE ROUND
#   ready S                   seconds from the daemon's start to the first answer through the VIP
#   conns N seconds S errors E p50 MS p99 MS servers s1:N,s2:N,s3:N
#   vm-cpu busy % system % softirq %
#   director-cpu % ms-per-conn MS
#   ipvs conns N              (kernel plane: the service's connection counter: IPVS carried them)
# then `=== end`; or `=== fail` and the reason when the lab or a plane did not come up.
set -u
ours=$1 secs=$2 rounds=$3 conc=$4 WARM=${5:-3}
. "$(dirname "$(dirname "$ours")")/test/lvs/lvs-lib-vm.sh"
NODE=$(command -v node)
modprobe ip_vs || { echo "=== fail" && echo "modprobe ip_vs failed" && exit 3; }

lab_bridge
lab_nat_director
ip -n dir addr add 10.41.0.100/24 dev eth0
lab_ns cl 10.41.0.50/24
# The client makes thousands of connections: every local port, so none waits for a free one.
# (The forwarder's connections to the real servers leave from dir: the same there.)
for ns in cl dir; do ip netns exec $ns sh -c 'echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range'; done

# A real server: one Python process, one thread, a selectors loop (no JIT to warm: Node's takes
# long under TCG; no thread per connection: a clone each). The answer is this namespace's name,
# then the server closes (so the TIME_WAIT is its own, not on the client's ports).
cat >/run/bench-server.py <<'EOF'
import selectors, socket, sys
name, port = sys.argv[1].encode() + b'\n', int(sys.argv[2])
sel = selectors.DefaultSelector()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('0.0.0.0', port))
ls.listen(511)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            if s.recv(4096):
                s.send(name)
        except OSError:
            pass
        sel.unregister(s)
        s.close()
EOF
# The client: CONCURRENCY forked loops (a fork, no exec), each one blocking connection at a time:
# WARM seconds not counted, then SECONDS counted. Prints
#   conns N seconds S errors E p50 MS p99 MS servers NAME:N,...
#   vm-cpu busy % system % softirq %     (the whole VM's CPU over the counted seconds, in % of it)
#   director-cpu % ms-per-conn MS       (the daemon's own CPU meanwhile: % of one vCPU, per connection)
# where a latency is connect + request + answer + the server's close, in ms.
cat >/run/bench-client.py <<'EOF'
import os, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
secs, conc, warm, daemon = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
def one():
    t0 = time.monotonic()
    got = b''
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b'ping\n')
            while True:
                d = s.recv(64)
                if not d:
                    break
                got += d
    except OSError:
        got = b''
    return time.monotonic() - t0, got.strip().decode() or '-'
start = time.monotonic() + warm
end = start + secs
def cpu():  # the VM's CPU time so far: busy (all but idle and iowait), system, softirq
    v = [int(x) for x in open('/proc/stat').readline().split()[1:]]
    with open('/proc/%s/stat' % daemon) as f:  # the director's utime + stime
        d = f.read().rsplit(') ', 1)[1].split()
    return sum(v) - v[3] - v[4], v[2], v[6], sum(v), int(d[11]) + int(d[12])
pipes = []
for _ in range(conc):
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        while time.monotonic() < start:
            one()
        out = []
        while time.monotonic() < end:
            dt, name = one()
            out.append('%s %.3f\n' % (name, dt * 1000))
        with os.fdopen(w, 'w') as f:
            f.write(''.join(out))
        os._exit(0)
    os.close(w)
    pipes.append(r)
time.sleep(max(0, start - time.monotonic()))
c0 = cpu()
time.sleep(max(0, end - time.monotonic()))
c1 = cpu()
lat, servers, errors = [], {}, 0
for r in pipes:
    with os.fdopen(r) as f:
        for line in f:
            name, ms = line.split()
            if name == '-':
                errors += 1
            else:
                lat.append(float(ms))
                servers[name] = servers.get(name, 0) + 1
    os.wait()
lat.sort()
pct = lambda p: '%.2f' % lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))] if lat else '-'
names = ','.join('%s:%d' % kv for kv in sorted(servers.items())) or '-'
d = [b - a for a, b in zip(c0, c1)]
share = lambda x: '%.0f' % (100.0 * x / d[3]) if d[3] else '-'
print('conns %d seconds %.2f errors %d p50 %s p99 %s servers %s' % (len(lat), secs, errors, pct(50), pct(99), names))
print('vm-cpu busy %s system %s softirq %s' % (share(d[0]), share(d[1]), share(d[2])))
tck = os.sysconf('SC_CLK_TCK')
print('director-cpu %.0f%% ms-per-conn %.2f' % (100.0 * d[4] / tck / secs, 1000.0 * d[4] / tck / max(1, len(lat))))
EOF

for s in s1:21 s2:22 s3:23; do
  ns=${s%:*}
  lab_nat_real "$ns" "10.42.0.${s#*:}/24"
  ip netns exec "$ns" $PY /run/bench-server.py "$ns" 7100 &
done

cat >/tmp/lvs-dir.conf <<'EOF'
virtual_server 10.41.0.100 7100 {
  delay_loop 5
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.42.0.21 7100 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
  real_server 10.42.0.22 7100 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
  real_server 10.42.0.23 7100 {
    TCP_CHECK {
      connect_timeout 3
    }
  }
}
EOF

# A request through the VIP answered by a real server (the plane is carrying traffic).
answered() { [ -n "$(ip netns exec cl $PY /run/lvs-many.py 10.41.0.100 7100 1 0 | grep -v '^fail')" ]; }
all_up() { # every real server answers on its own address
  local a
  for a in 21 22 23; do ip netns exec dir $PY /run/lvs-many.py "10.42.0.$a" 7100 1 0 | grep -q "^s" || return 1; done
}
wait_for 120 all_up || { echo "=== fail" && echo "the real servers did not answer" && exit 3; }

bench() { # bench PLANE ROUND
  local plane=$1 daemon t0
  mkdir -p /tmp/lvs-dir.d
  TMPDIR=/tmp/lvs-dir.d ip netns exec dir "$NODE" "$ours" -n -l --data-plane="$plane" -f /tmp/lvs-dir.conf -p /tmp/lvs-dir-p.pid >"/tmp/lvs-dir-$plane.log" 2>&1 &
  daemon=$!
  t0=$(cs)
  if [ "$plane" = kernel ]; then
    wait_for 120 sh -c "[ \$(ip netns exec dir ipvsadm -Ln | grep -c -- '-> 10.42') -eq 3 ]"
  fi
  if ! wait_for 120 answered; then
    echo "=== fail"
    echo "$plane: no answer through the VIP"
    tail -n 20 "/tmp/lvs-dir-$plane.log"
    kill -9 $daemon
    exit 3
  fi
  echo "=== run $plane $2"
  t0=$(($(cs) - t0))
  echo "ready $((t0 / 100)).$((t0 % 100 / 10))"
  ip netns exec cl $PY /run/bench-client.py 10.41.0.100 7100 "$secs" "$conc" "$WARM" $daemon
  [ "$plane" = kernel ] && ip netns exec dir ipvsadm -Ln --stats | awk '$1 == "TCP" { print "ipvs conns", $3 }'
  kill -TERM $daemon
  wait_for 30 sh -c "! kill -0 $daemon 2>/dev/null" || kill -9 $daemon
  # Whatever the kernel plane left, the forwarder's run must not go through IPVS.
  ip netns exec dir ipvsadm -C
}

order=(kernel forwarder forwarder kernel)
for ((r = 0; r < rounds; r++)); do
  bench "${order[$((2 * (r % 2)))]}" $((r + 1))
  bench "${order[$((2 * (r % 2) + 1))]}" $((r + 1))
done
echo "=== end"
lab_clear
