#!/bin/busybox sh
# PID 1 of the VM's initramfs (vm-run.sh). Static busybox only: every exec of a host binary
# over 9p costs a tenth of a second under TCG. It builds the root (the host's / read-only,
# a tmpfs overlay on top so the test may write anywhere) and hands over to stage2.sh.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
# Without a status file the host reports that the VM stopped early, with this console.
halt() {
  echo "vm init: $*"
  echo o >/proc/sysrq-trigger
  $bb sleep 30
}
for ko in $($bb cat /lib/order); do $bb insmod "/lib/$ko" || halt "insmod $ko"; done
# multidevs=remap on the host side keeps inode numbers of its several filesystems apart;
# cache=loose is safe because nothing changes the host's root under a test.
nine='trans=virtio,version=9p2000.L,msize=512000'
$bb mount -t 9p -o "$nine,ro,cache=loose" hostroot /host || halt "mount hostroot"
$bb mount -t tmpfs -o mode=755 upper /upper
$bb mkdir /upper/data /upper/work
$bb mount -t overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work root /root || halt "mount overlay"
r=/root
$bb mount -t tmpfs -o mode=755 run $r/run
$bb mkdir -p $r/run/vm $r/run/netns $r/run/lock
$bb mount -t 9p -o "$nine" share $r/run/vm || halt "mount share"
for fs in dev proc sys; do $bb mount --move /$fs $r/$fs; done
$bb mkdir -p $r/dev/pts $r/dev/shm
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
$bb mount -t tmpfs -o mode=1777 shm $r/dev/shm
$bb ln -sfn /proc/self/fd $r/dev/fd
$bb mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null
# The unpacked kernel's modules, where modprobe looks for them.
mods=$($bb cat $r/run/vm/modules)
release=$($bb uname -r)
$bb mkdir -p $r/lib/modules/$release 2>/dev/null
$bb mount --bind "$r$mods" $r/lib/modules/$release || halt "bind modules"
$bb hostname kts-vm
$bb ip link set lo up
i=0
while [ ! -e $r/dev/vport0p1 ] && [ $i -lt 50 ]; do $bb sleep 0.1; i=$((i + 1)); done
[ -e $r/dev/vport0p1 ] || halt "no virtio-serial port"
exec $bb switch_root $r /bin/bash /run/vm/stage2
