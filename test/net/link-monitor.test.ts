// The link monitor: `ip -o monitor link address` lines parsed into the interface to re-read,
// unknown lines counted and ignored, overlong ones bounded; a child that dies is reported (the
// trackers then poll) and restarted.
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/net/ip-child.js';
import { LinkMonitor, parseMonitorLine } from '../../src/net/link-monitor.js';

const until = async (what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('ip monitor lines', () => {
  it('names the interface of link and address lines, as iproute2 6.1 writes them', () => {
    // Captured from `ip -o monitor link address` in a namespace.
    expect(parseMonitorLine('3: kcmpa@kcmpb: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 4a:f1')).toEqual({
      ifindex: 3,
      ifname: 'kcmpa',
      kind: 'link',
      deleted: false,
    });
    expect(parseMonitorLine('3: kcmpa    inet 10.9.9.1/24 scope global kcmpa\\       valid_lft forever preferred_lft forever')).toEqual({
      ifindex: 3,
      ifname: 'kcmpa',
      kind: 'address',
      deleted: false,
    });
    expect(parseMonitorLine('Deleted 3: kcmpa    inet6 fe80::48f1:d1ff:fedc:abee/64 scope link tentative \\       valid_lft forever')).toMatchObject({
      ifname: 'kcmpa',
      kind: 'address',
      deleted: true,
    });
    expect(parseMonitorLine('7: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500')).toMatchObject({ ifname: 'eth0', kind: 'link' });
    expect(parseMonitorLine('Deleted 9: vx0@NONE: <BROADCAST> mtu 1450')).toMatchObject({ ifname: 'vx0', kind: 'link', deleted: true });
  });

  it('leaves what is not a link or address line unnamed', () => {
    for (const l of ['', 'garbage', '3: eth0', '3: eth0: mtu 1500', 'x3: eth0: <UP>', '3: eth0    link/ether 00:11', 'Timestamp: Sun Dec  6 21:00:00 2026'])
      expect(parseMonitorLine(l), l).toBeUndefined();
  });
});

describe('bounded lines', () => {
  it('splits chunks into lines, and drops a line longer than the bound up to its newline', () => {
    const lines: string[] = [];
    let overlong = 0;
    const r = new LineReader(
      (l) => lines.push(l),
      () => overlong++,
      8,
    );
    r.push('ab');
    r.push('c\nde');
    r.push('f\n0123456');
    r.push('789abc');
    r.push('def');
    r.push('\nok\n123456789\nlast\n');
    expect(lines).toEqual(['abc', 'def', 'ok', 'last']);
    expect(overlong).toBe(2);
  });
});

describe('the monitor child', () => {
  it('passes named interfaces on, counts unknown lines, and restarts a child that died (reporting it to the subscribers)', async () => {
    const logs: string[] = [];
    // A stand-in for ip: two lines, one unknown, then it exits (well after the 0.3 s settle, even on a
    // loaded box); ip's arguments land in $0...
    const script = 'echo "4: trk0@trk0p: <BROADCAST,UP,LOWER_UP> mtu 1500"; echo "no interface here"; echo "Deleted 4: trk0    inet 10.0.0.1/24"; sleep 1.5';
    const m = new LinkMonitor((l, msg) => logs.push(`${l}: ${msg}`), ['sh', '-c', script]);
    const seen: (string | undefined)[] = [];
    const w = m.subscribe((n) => seen.push(n));
    try {
      // Two events for trk0, passed on once per read of ip's output (once or twice).
      await until('the two events', () => m.counts.events === 2 && seen.includes('trk0'));
      expect(m.counts.unknown).toBe(1);
      await until('the settle', () => w.live());
      await until('the exit', () => !w.live());
      expect(logs).toEqual([
        expect.stringMatching(/^warn: Link monitor: ip monitor exited \(status 0\); polling interfaces every 0\.2 s, restarting it in 1 s$/),
      ]);
      // Told to re-read everything at the settle and at the death.
      expect(seen.filter((n) => n === undefined).length).toBe(2);
      await until('the restart', () => w.live(), 5000);
      expect(m.counts.restarts).toBe(1);
      expect(logs.at(-1)).toBe('info: Link monitor restarted: following link events again');
    } finally {
      m.close();
      w.stop();
    }
    expect(m.pid).toBeUndefined();
  });

  it('passes an interface named by many lines of one read on once (1,000 VIPs added together)', async () => {
    // awk writes its output in 4 kB blocks: a dozen writes.
    const script = `awk 'BEGIN { for (i = 0; i < 1000; i++) printf "4: trk1    inet 10.9.%d.%d/32 scope global trk1\\n", i / 250, i % 250 }'; sleep 5`;
    const m = new LinkMonitor(() => undefined, ['sh', '-c', script]);
    const seen: (string | undefined)[] = [];
    const w = m.subscribe((n) => seen.push(n));
    try {
      await until('the 1,000 events', () => m.counts.events === 1000);
      const trk1 = seen.filter((n) => n === 'trk1').length;
      // 40 kB of lines come in a few reads, not 1,000.
      expect(trk1).toBeGreaterThanOrEqual(1);
      expect(trk1).toBeLessThan(100);
    } finally {
      m.close();
      w.stop();
    }
  });

  it('reports what ip said before it exited', async () => {
    const logs: string[] = [];
    const m = new LinkMonitor((l, msg) => logs.push(msg), ['sh', '-c', 'echo "Cannot open netlink socket: Permission denied" >&2; exit 1']);
    const w = m.subscribe(() => undefined);
    await until('the exit', () => logs.length === 1);
    expect(logs[0]).toBe(
      'Link monitor: ip monitor exited (status 1): Cannot open netlink socket: Permission denied; polling interfaces every 0.2 s, restarting it in 1 s',
    );
    expect(w.live()).toBe(false);
    m.close();
  });

  it('a command that cannot start is reported once per attempt and nothing is live', async () => {
    const logs: string[] = [];
    const m = new LinkMonitor((l, msg) => logs.push(msg), ['/nonexistent/kt-ip']);
    const w = m.subscribe(() => undefined);
    await until('the failure', () => logs.length === 1);
    expect(logs[0]).toMatch(/^Link monitor: ip monitor: spawn \/nonexistent\/kt-ip ENOENT; polling interfaces every 0\.2 s, restarting it in 1 s$/);
    expect(w.live()).toBe(false);
    m.close();
  });
});
