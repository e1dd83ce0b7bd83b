#!/usr/bin/env bash
# vm-run.sh [--prepare] SCRIPT [ARG...]
#
# Runs SCRIPT as root inside a throw-away QEMU VM (TCG: no KVM needed) that boots Debian's own
# kernel, the one linux-image-amd64 depends on, because this host's kernel has no IPVS and
# loads no modules. The VM sees the host's / read-only over 9p under a tmpfs overlay (writes
# are discarded), has no NIC (only what SCRIPT creates inside it), and prints SCRIPT's
# stdout+stderr on stdout. Exit status: SCRIPT's; 124 if the VM ran out of time, 125 if it
# failed before SCRIPT ended (its kernel console then goes to stderr).
#
#   --prepare        fetch and unpack the kernel into the cache, then exit
# Environment:
#   KTS_VM_CACHE     the cache (default $XDG_CACHE_HOME/keepalived-ts-vm, else
#                    /var/cache/keepalived-ts-vm): the unpacked kernel .deb, reused
#   KTS_VM_TIMEOUT   seconds for the whole VM run (default 600)
#   KTS_VM_MEM       MiB (default 1024)      KTS_VM_CPUS (default 2)
#   KTS_VM_VERBOSE=1 timings and the guest's kernel console on stderr
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${KTS_VM_CACHE:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/keepalived-ts-vm}}
CACHE=${CACHE:-/var/cache/keepalived-ts-vm}
TIMEOUT=${KTS_VM_TIMEOUT:-600}
MEM=${KTS_VM_MEM:-1024}
CPUS=${KTS_VM_CPUS:-2}
VERBOSE=${KTS_VM_VERBOSE:-0}
START=$(date +%s.%N)

fail() { echo "vm-run: $*" >&2; exit 125; }
note() { [ "$VERBOSE" != 1 ] || echo "vm-run: +$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')s $*" >&2; }

[ "$(id -u)" = 0 ] || fail "needs root (the 9p export of / maps no users)"
for tool in qemu-system-x86_64 busybox xz modprobe depmod dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || fail "$tool not found (.ci/run installs qemu-system-x86 busybox-static xz-utils kmod)"
done
BUSYBOX=$(command -v busybox)
ldd "$BUSYBOX" >/dev/null 2>&1 && fail "$BUSYBOX is dynamically linked: the initramfs needs busybox-static"

# ---- the kernel, prepared once ---------------------------------------------------------------
# The .deb is unpacked, not installed: installing runs update-initramfs (minutes) for nothing.
# A root-owned private directory, never reached through a symlink.
ready() { [ -s "$CACHE/release" ] && [ -s "$CACHE/vmlinux" ] && [ -s "$CACHE/tree/lib/modules/$(cat "$CACHE/release")/modules.dep" ]; }
prepare() {
  [ -L "$CACHE" ] && fail "$CACHE is a symlink"
  mkdir -p -m 700 "$CACHE"
  exec 7>"$CACHE/lock"
  flock 7 # two first runs at once: one prepares, the other waits and reuses
  if ready; then exec 7>&-; return; fi
  local pkg dl off
  image() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'; }
  pkg=$(image)
  [ -n "$pkg" ] || { apt-get update -qq >&2 && pkg=$(image); }
  [ -n "$pkg" ] || fail "apt knows no image for linux-image-amd64"
  echo "vm-run: preparing $pkg in $CACHE (once)" >&2
  rm -rf "$CACHE/tree" "$CACHE/dl" "$CACHE/vmlinux" "$CACHE/release"
  dl=$CACHE/dl
  mkdir -m 755 "$dl" # apt's download user (_apt) writes here
  (cd "$dl" && apt-get download -qq "$pkg" 2>&1 | grep -v -i unsandboxed >&2) || true
  compgen -G "$dl/${pkg}_*.deb" >/dev/null || fail "apt-get download $pkg failed"
  dpkg-deb -x "$dl"/"${pkg}"_*.deb "$CACHE/tree"
  rm -rf "$dl"
  local release=${pkg#linux-image-}
  depmod -b "$CACHE/tree" "$release"
  # QEMU boots an uncompressed ELF vmlinux through its PVH entry, which skips seconds of
  # decompression under TCG. The bzImage holds an xz stream: find its magic and unpack it
  # (xz-utils: busybox's xz lacks the x86 BCJ filter).
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$CACHE/tree/boot/vmlinuz-$release" | head -1 | cut -d: -f1)
  [ -n "$off" ] || fail "no xz stream in vmlinuz-$release"
  tail -c +$((off + 1)) "$CACHE/tree/boot/vmlinuz-$release" | xz -dcq >"$CACHE/vmlinux.part" 2>/dev/null || true
  [ "$(head -c 4 "$CACHE/vmlinux.part" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || fail "vmlinuz-$release: no ELF inside"
  mv "$CACHE/vmlinux.part" "$CACHE/vmlinux"
  echo "$release" >"$CACHE/release"
  exec 7>&-
  note "prepared $release"
}

ready || prepare
[ "${1:-}" = --prepare ] && { echo "vm-run: kernel $(cat "$CACHE/release") ready in $CACHE" >&2; exit 0; }
[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
SCRIPT=$(realpath "$1")
shift
[ -f "$SCRIPT" ] || fail "no script $SCRIPT"
RELEASE=$(cat "$CACHE/release")
TREE=$CACHE/tree

# ---- this run's private directory: initramfs, the guest's share, output ------------------------
RUN=$(mktemp -d /tmp/kts-vm.XXXXXX)
QEMU_PID=
WATCH_PID=
cleanup() {
  # QEMU first, by PID (it must never outlive this script), then the watchdog, then the files.
  if [ -n "$QEMU_PID" ]; then
    kill -TERM "$QEMU_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  [ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

SHARE=$RUN/share
INITRD=$RUN/initrd
mkdir -p "$SHARE" "$INITRD"/{bin,lib,dev,proc,sys,host,upper,root}
cp "$BUSYBOX" "$INITRD/bin/busybox"
cp "$HERE/init.sh" "$INITRD/init"
chmod 755 "$INITRD/init"
# The modules that reach the host root: the kernel has virtio and 9p as modules. Their .ko files
# are plain (not compressed), so busybox insmod loads them in the order modprobe resolves.
for m in virtio_pci virtio_console 9pnet_virtio 9p overlay; do
  modprobe -d "$TREE" -S "$RELEASE" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
  cp "$ko" "$INITRD/lib/"
  basename "$ko" >>"$INITRD/lib/order"
done
(cd "$INITRD" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$RUN/initrd.cpio"

cp "$SCRIPT" "$SHARE/script"
cp "$HERE/stage2.sh" "$SHARE/stage2"
: >"$SHARE/args"
for a in "$@"; do printf '%s\0' "$a" >>"$SHARE/args"; done
pwd >"$SHARE/cwd"
echo "$TREE/lib/modules/$RELEASE" >"$SHARE/modules"
note "initramfs ready ($(wc -l <"$INITRD/lib/order") modules)"

# ---- boot -----------------------------------------------------------------------------------
FIRMWARE=()
[ -f /usr/share/qemu/qboot.rom ] && FIRMWARE=(-bios /usr/share/qemu/qboot.rom) # faster than SeaBIOS
# SCRIPT's output: a virtio-serial port into a file (a serial console is ~100x slower, and a
# file chardev never blocks the guest the way a closed stdio one does).
qemu-system-x86_64 \
  -nodefaults -no-user-config -display none -no-reboot \
  -machine q35 -accel tcg,thread=multi -cpu max -m "$MEM" -smp "$CPUS" "${FIRMWARE[@]}" \
  -kernel "$CACHE/vmlinux" -initrd "$RUN/initrd.cpio" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off" \
  -chardev file,id=console,path="$RUN/console.log" -serial chardev:console \
  -device virtio-serial-pci -chardev file,id=out,path="$RUN/output" -device virtserialport,chardev=out,name=out \
  -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
  -fsdev local,id=share,path="$SHARE",security_model=none \
  -device virtio-9p-pci,fsdev=share,mount_tag=share \
  -nic none </dev/null >"$RUN/qemu.log" 2>&1 &
QEMU_PID=$!
note "qemu pid $QEMU_PID"
# The watchdog: a plain sleep, whichever of the two ends first decides. (Its stdio is not ours:
# a caller waiting for this script's pipes to close must not wait for it.)
sleep "$TIMEOUT" </dev/null >/dev/null 2>&1 &
WATCH_PID=$!
set +e
wait -n -p ended "$QEMU_PID" "$WATCH_PID"
qemu_status=$?
set -e
timed_out=0
if [ "$ended" = "$WATCH_PID" ]; then
  WATCH_PID=
  timed_out=1 # cleanup() stops QEMU
else
  QEMU_PID=
fi
cat "$RUN/output" 2>/dev/null || true
note "qemu exited $qemu_status; guest: script started at $(cat "$SHARE/t-start" 2>/dev/null)s uptime, ended at $(cat "$SHARE/t-end" 2>/dev/null)s"
[ "$VERBOSE" != 1 ] || { echo '---- guest console ----' && cat "$RUN/console.log" "$RUN/qemu.log"; } >&2
if [ -s "$SHARE/status" ]; then exit "$(cat "$SHARE/status")"; fi
if [ $timed_out = 1 ]; then
  echo "vm-run: timed out after ${TIMEOUT}s" >&2
  exit 124
fi
{
  echo "vm-run: the VM stopped (qemu status $qemu_status) before the script ended; its console:"
  tail -n 40 "$RUN/console.log" "$RUN/qemu.log"
} >&2
exit 125
