// keepalived's real-time signals (`keepalived --signum=JSON` 36, `--signum=STATS_CLEAR` 63) sent
// to a MASTER keepalived-ts in a network namespace beside the real keepalived: it stays MASTER
// with its VIP, clears its stats, and still stops with priority 0 on SIGTERM. Without a handler,
// Node ends at once on these signals (exit 128+36) and leaves the VIP on the interface.
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll } from '../helpers/netns.js';

const skip = netnsSkip('real-time signal tests', { keepalived: true });

const VIP = '10.99.52.100';
const conf = (prio: number) => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

/** keepalived 2.2.7 vrrp_print.c vrrp_print_stats (built with VRRP_AUTH) for VI_1, numbers as N. */
const KEEPALIVED_STATS_BLOCK = `VRRP Instance: VI_1
  Advertisements:
    Received: N
    Sent: N
  Became master: N
  Released master: N
  Packet Errors:
    Length: N
    TTL: N
    Invalid Type: N
    Advertisement Interval: N
    Address List: N
  Authentication Errors:
    Invalid Type: N
    Type Mismatch: N
    Failure: N
  Priority Zero:
    Received: N
    Sent: N
`;

describe.skipIf(skip)("keepalived-ts on keepalived's JSON and STATS_CLEAR signals", () => {
  const pair = interopPair({ subnet: 52, vips: [VIP] });

  it('36 and 63 neither stop the daemon nor move the VIP; 63 prints and clears the stats; SIGTERM still sends priority 0', async () => {
    const { lab, ours, theirs } = pair;
    const k = pair.startKeepalived(conf(100), 'rt');
    const tmp = join(lab.dir, 'tmp');
    mkdirSync(tmp);
    // A symlink planted at the VRRP pid file is replaced, not followed.
    const victim = join(lab.dir, 'victim');
    writeFileSync(victim, 'victim\n');
    symlinkSync(victim, join(lab.dir, 'ours-rt-vrrp.pid'));
    const o = pair.startOurs(conf(150), 'rt', { env: { TMPDIR: tmp, KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt') } });
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    // keepalived may have been MASTER while ours started: it yields to the higher priority.
    await poll(async () => ((await pair.hasVip(ours)) && !(await pair.hasVip(theirs))) || undefined, { timeoutMs: 5000, what: 'VIP on ours only' });
    const settled = k.lines.length;
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
    expect(lstatSync(join(lab.dir, 'ours-rt-vrrp.pid')).isFile()).toBe(true);

    process.kill(o.pid!, 36);
    await o.waitForLine(/Wrote .*keepalived\.json/, { timeoutMs: 3000 });
    let from = o.lines.length;
    process.kill(o.pid!, 63);
    await o.waitForLine(/Printing and clearing VRRP stats/, { timeoutMs: 3000, from });
    await o.waitForLine(/Wrote .*keepalived\.stats/, { timeoutMs: 3000, from });
    // Printed before the clear: the one transition to MASTER.
    expect(readFileSync(join(tmp, 'keepalived.stats'), 'utf8')).toContain('  Became master: 1\n');
    from = o.lines.length;
    o.signal('SIGUSR2');
    await o.waitForLine(/Wrote .*keepalived\.stats/, { timeoutMs: 3000, from });
    const stats = readFileSync(join(tmp, 'keepalived.stats'), 'utf8');
    expect(stats).toContain('  Became master: 0\n');
    // keepalived 2.2.7's vrrp_print_stats block, line for line, then our own section.
    const [block, ours2] = stats.split('------< keepalived-ts >------\n');
    expect(block.replace(/: \d+$/gm, ': N')).toBe(KEEPALIVED_STATS_BLOCK);
    expect(ours2).toMatch(/^VRRP drops by reason:\n {2}VI_1: /);
    // Adverts went out since the clear (the socket counters are not cleared).
    expect(Number(/^ {2}eth0: sent (\d+), received \d+, send errors 0, send queue drops 0, receive errors 0, dropped: /m.exec(ours2)?.[1])).toBeGreaterThan(0);
    expect(ours2).toMatch(/^Virtual servers:$/m);

    expect(o.running).toBe(true);
    expect(await pair.hasVip(ours)).toBe(true);
    expect(
      k.lines
        .slice(settled)
        .map((l) => l.text)
        .join('\n'),
    ).not.toMatch(/Entering MASTER STATE/);

    const fromK = k.lines.length;
    await o.kill('SIGTERM', 5000);
    expect(o.exitCode).toBe(0);
    expect(await pair.hasVip(ours)).toBe(false);
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 5000, from: fromK });
    expect(
      k.lines
        .slice(fromK)
        .map((l) => l.text)
        .join('\n'),
    ).toMatch(/priority 0|Backup received priority 0/i);
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
    await k.kill('SIGTERM', 3000);
  }, 60_000);
});
