# lvs-lib-vm.sh — sourced INSIDE the VM by the LVS traffic scripts (lvs-*-vm.sh): a bridge with
# namespaces on it, a line-echo server and a long-lived line client (python3: one process for the
# whole connection, as process starts cost up to a second under TCG), and the daemons' start/stop.
#
# Namespaces are attached to the bridge `br0` in the VM's root namespace through veth pairs whose
# namespace end is `eth0`; the VM is private to one test, so the names need no uniqueness, but a
# deleted namespace's veth pairs go away later (the kernel's cleanup work, slow under TCG): each
# lab's root ends are named with its own number, v<LAB>-<NS>.
LAB=0

mkfifo /run/lvs-never 2>/dev/null
exec 9<>/run/lvs-never
# A sleep without a process start (the shell's read with a timeout on a FIFO nobody writes).
pause() { read -r -t "$1" -u 9 || true; }
# Seconds since boot, with centiseconds; cs: the same in centiseconds (no process start).
now() { local up _; read -r up _ </proc/uptime; echo "$up"; }
cs() { local up _; read -r up _ </proc/uptime; echo $((10#${up/./})); }
PY=/usr/bin/python3

lab_bridge() {
  ip link add br0 type bridge && ip link set br0 up || exit 3
  # The bridge must not filter the directors' and real servers' frames through the VM's netfilter.
  [ -e /proc/sys/net/bridge ] && echo 0 >/proc/sys/net/bridge/bridge-nf-call-iptables
  return 0
}

# lab_ns NAME ADDR/PREFIX [BRIDGE]: a namespace on BRIDGE (br0) with ADDR on its eth0.
lab_ns() {
  local ns=$1 addr=$2
  ip netns add "$ns" || exit 3
  ip link add "v$LAB-$ns" type veth peer name eth0 netns "$ns" || exit 3
  ip link set "v$LAB-$ns" master "${3:-br0}" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
}

# lab_nat_director: the director `dir`, 10.41.0.1/24 on br0 and 10.42.0.1/24 on a second bridge
# br1 behind it, forwarding: the gateway of the LVS-NAT real servers (lab_nat_real).
lab_nat_director() {
  ip link add br1 type bridge && ip link set br1 up || exit 3
  lab_ns dir 10.41.0.1/24
  ip link add v-dir1 type veth peer name eth1 netns dir || exit 3
  ip link set v-dir1 master br1 up
  ip -n dir addr add 10.42.0.1/24 dev eth1
  ip -n dir link set eth1 up
  ip netns exec dir sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
}

# lab_nat_real NAME ADDR/PREFIX: a namespace on br1 with ADDR, its default route through dir.
lab_nat_real() {
  lab_ns "$1" "$2" br1
  ip -n "$1" route add default via 10.42.0.1
}

lab_clear() {
  local ns
  for ns in $(ip netns list | awk '{print $1}'); do
    ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
    ip netns del "$ns"
  done
  ip link del br0 2>/dev/null
  ip link del br1 2>/dev/null
  rm -rf /tmp/lvs-*
  LAB=$((LAB + 1))
}

# A DR real server: VIP on lo, answering no ARP for it (arp_ignore 1, arp_announce 2).
lab_dr_real() {
  local ns=$1 vip=$2
  ip -n "$ns" addr add "$vip/32" dev lo
  ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore; echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce'
}

cat >/run/lvs-echo.py <<'EOF'
# echo server PORT...: every line back, prefixed with this namespace's name (argv[1]).
import socket, sys, threading
name = sys.argv[1]
def serve(c):
    with c:
        f = c.makefile('rb')
        for line in f:
            c.sendall(name.encode() + b' ' + line)
def listen(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(64)
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
for p in sys.argv[2:]:
    threading.Thread(target=listen, args=(int(p),), daemon=True).start()
threading.Event().wait()
EOF

# The long-lived client: one TCP connection to HOST PORT, a line every 100 ms, each echo awaited
# (up to 90 s: TCP retransmits over a failover, on a busy machine). It writes the lines echoed so far to COUNT after
# each one, and ends when STOP exists or the connection fails, printing one line:
#   ok lines=N maxgap=S   |   error lines=N after=S reason
cat >/run/lvs-long.py <<'EOF'
import os, socket, sys, time
host, port, count, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
n, gap, last = 0, 0.0, time.monotonic()
try:
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(90)
    f = s.makefile('rb')
    while not os.path.exists(stop):
        s.sendall(b'%d\n' % n)
        line = f.readline()
        if not line:
            raise ConnectionError('closed by the peer')
        if line.split()[-1] != b'%d' % n:
            raise ConnectionError('wrong echo %r' % line)
        t = time.monotonic(); gap = max(gap, t - last); last = t
        n += 1
        with open(count + '.tmp', 'w') as c: c.write(str(n))
        os.replace(count + '.tmp', count)
        time.sleep(0.1)
    print('ok lines=%d maxgap=%.2f' % (n, gap))
except Exception as e:
    print('error lines=%d after=%.2f %s' % (n, time.monotonic() - last, type(e).__name__ + ': ' + str(e)))
EOF

# Many short connections: COUNT requests to HOST PORT, one line each; prints each answer's first
# word (the real server's name), or `fail REASON`, one per line. A pause of GAP seconds between.
cat >/run/lvs-many.py <<'EOF'
import socket, sys, time
host, port, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for i in range(n):
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.settimeout(5)
            s.sendall(b'%d\n' % i)
            line = s.makefile('rb').readline()
            print(line.split()[0].decode() if line else 'fail empty', flush=True)
    except Exception as e:
        print('fail %s' % type(e).__name__, flush=True)
    time.sleep(gap)
EOF

# lines COUNTFILE: the lines the long client has echoed so far.
lines() { cat "$1" 2>/dev/null || echo 0; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s; fails when it has not succeeded within
# SECONDS (of uptime: under TCG a command can take a second to start).
wait_for() {
  local end=$(($(cs) + $1 * 100))
  shift
  while true; do
    "$@" && return 0
    [ "$(cs)" -lt "$end" ] || return 1
    pause 0.2
  done
}

has_addr() { ip -n "$1" -4 addr show dev eth0 | grep -q " $2/"; }
