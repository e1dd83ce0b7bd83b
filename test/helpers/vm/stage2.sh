# PID 1 of the VM after switch_root (vm-run.sh): the host's bash runs the test script as root
# with the caller's arguments and directory, its output to the virtio-serial port, then writes
# the exit status to the share and powers off.
read -r up _ </proc/uptime
echo "$up" >/run/vm/t-start
status=0
(
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
  cd "$(cat /run/vm/cwd)" 2>/dev/null || cd /
  mapfile -d '' args </run/vm/args
  exec /bin/bash /run/vm/script "${args[@]}"
) </dev/null >/dev/vport0p1 2>&1 || status=$?
read -r up _ </proc/uptime
echo "$up" >/run/vm/t-end
echo "$status" >/run/vm/status
# Nothing to sync: the root is 9p (read-only) and tmpfs.
echo o >/proc/sysrq-trigger
sleep 30
