// One failover, every channel an operator watches. In network namespaces the test makes, the real
// keepalived 2.2.7 is MASTER for two VRIDs on h1; keepalived-ts is BACKUP for the first on h2 and
// keepalived 2.2.7 BACKUP for the second on h3, both with the same channels on: syslog (ours to a
// real rsyslogd; keepalived's lines read from its console, where -l writes the same text, as this
// machine has no /dev/log), notify_master, notify_backup and the generic notify script,
// notify_fifo, SNMP traps through a real snmpd to a real snmptrapd, and the JSON dump; ours also
// serves --prometheus. kill -9 of h1's keepalived makes both backups MASTER; each channel must show
// that one transition, as often as keepalived's shows it, and agree on the instance and the state.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fifoReader, type FifoReader } from '../helpers/fifo-reader.js';
import { createLab, keepalivedCapability, killKeepalivedNs, netnsCapability, poll, type Host, type Lab } from '../helpers/netns.js';
import { PrivateRsyslog, rsyslogCapability } from '../helpers/rsyslog.js';
import { nsGet, samples } from '../helpers/scrape.js';
import { get, INSTANCE, instanceTrap, snmpCapability, startSnmpd, startTrapd, trapShape, walk } from '../helpers/snmp.js';
import { instanceConf, startOurs } from '../helpers/sync-pair.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const rsyslog = rsyslogCapability();
const snmp = snmpCapability();
const why = [net, ka, rsyslog, snmp].find((c) => !c.ok)?.reason;
if (why) console.warn(`failover channels test skipped: ${why}`);

const SUBNET = 172;
const OUR_VRID = 61;
const THEIR_VRID = 62;
const METRICS_PORT = 19650;
/** keepalived's --signum=JSON. */
const SIGJSON = 36;

const vip = (vrid: number) => `10.99.${SUBNET}.${vrid}/24`;

/** The master on h1: both VRIDs, priority 200. */
const masterConf = [OUR_VRID, THEIR_VRID].map((vrid) => instanceConf(`VI_${vrid}`, vrid, 200, vip(vrid))).join('');

/** A backup with every channel on; its notify scripts record their arguments in `dir`. */
const backupConf = (dir: string, vrid: number, snmpSocket: string, fifo: string) => {
  const rec = join(dir, 'rec.sh');
  return `global_defs {
  router_id ${vrid === OUR_VRID ? 'ours' : 'theirs'}
  notify_fifo ${fifo}
  enable_snmp_vrrp
  enable_traps
  snmp_socket unix:${snmpSocket}
}
${instanceConf('VI_1', vrid, 100, vip(vrid), `  notify_master "${rec} master"\n  notify_backup "${rec} backup"\n  notify "${rec} notify"\n`)}`;
};

/** One backup's channels, as files and readers in its own directory. */
interface Side {
  host: Host;
  dir: string;
  fifo: FifoReader;
  snmpd: ReturnType<typeof startSnmpd>;
  trapd: ReturnType<typeof startTrapd>;
  /** The notify scripts' calls so far, one `ARGS` line each. */
  notified(): string[];
  /** The JSON dump's path, once signalled. */
  json: string;
}

function side(lab: Lab, host: Host, name: string, tmp: string): Side {
  const dir = join(lab.dir, name);
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'notify.out');
  // keepalived runs notify scripts fire-and-forget: each call is one short append.
  writeFileSync(join(dir, 'rec.sh'), `#!/bin/sh\necho "$*" >> ${out}\n`);
  chmodSync(join(dir, 'rec.sh'), 0o755);
  return {
    host,
    dir,
    fifo: fifoReader(dir, 'fifo'),
    snmpd: startSnmpd(lab, host, `snmpd-${name}`),
    trapd: startTrapd(lab, host, `trapd-${name}`),
    notified: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []),
    json: join(tmp, 'keepalived.json'),
  };
}

const matching = (lines: string[], re: RegExp): string[] => lines.filter((l) => re.test(l));

describe.skipIf(!!why)('a failover in every channel, beside keepalived 2.2.7', () => {
  let lab: Lab;
  let syslog: PrivateRsyslog;
  // The FIFO readers run outside the lab: killed here whatever happened.
  const sides: Side[] = [];

  beforeAll(async () => {
    lab = await createLab({ hosts: 3, subnet: SUBNET });
    mkdirSync(join(lab.dir, 'rsyslog'));
    syslog = new PrivateRsyslog(join(lab.dir, 'rsyslog'));
    await syslog.start();
  }, 60_000);
  afterAll(async () => {
    for (const s of sides) s.fifo.kill();
    await syslog?.stop();
    await lab?.teardown();
  });

  it('shows the BACKUP to MASTER transition once in syslog, the notify scripts, the FIFO, the metrics, a trap and the JSON dump', async () => {
    const [h1, h2, h3] = lab.hosts;
    const theirTmp = join(lab.dir, 'theirs-tmp');
    mkdirSync(theirTmp);
    const ours = side(lab, h2, 'ours', join(lab.dir, 'tmp'));
    const theirs = side(lab, h3, 'theirs', theirTmp);
    sides.push(ours, theirs);

    // The master first: the backups hear its adverts from their start and stay BACKUP.
    const master = lab.keepalived(h1, masterConf, { name: 'ka-master' });
    await poll(() => [OUR_VRID, THEIR_VRID].every((v) => master.output().includes(`(VI_${v}) Entering MASTER STATE`)), {
      what: 'h1 MASTER for both VRIDs',
      timeoutMs: 30_000,
      diagnose: () => master.tail(10),
    });

    const ourConf = join(ours.dir, 'keepalived.conf');
    writeFileSync(ourConf, backupConf(ours.dir, OUR_VRID, ours.snmpd.socket, ours.fifo.path));
    const o = startOurs(lab, h2, 'channels', ourConf, [`--prometheus=${METRICS_PORT}`], { KEEPALIVED_TS_SYSLOG_SOCKET: syslog.sock });
    const k = lab.keepalived(h3, backupConf(theirs.dir, THEIR_VRID, theirs.snmpd.socket, theirs.fifo.path), {
      name: 'ka-backup',
      env: { ...process.env, TMPDIR: theirTmp },
    });
    const diagnose = () =>
      [
        `ours:\n${o.tail(15)}`,
        `keepalived backup:\n${k.tail(15)}`,
        `our FIFO:\n${ours.fifo.text()}their FIFO:\n${theirs.fifo.text()}`,
        `our traps:\n${ours.trapd.text()}their traps:\n${theirs.trapd.text()}`,
        `syslog:\n${syslog.lines().slice(-10).join('\n')}`,
      ].join('\n');
    const metrics = async () => samples((await nsGet(lab, h2, `http://127.0.0.1:${METRICS_PORT}/metrics`)) ?? '');
    const metric = async (name: string): Promise<number | undefined> => {
      const s = (await metrics()).filter((m) => m.name === name && m.labels.iname === 'VI_1');
      return s.length ? s.reduce((a, m) => a + m.value, 0) : undefined;
    };

    // Both backups settled: BACKUP in the FIFO, registered with their snmpd (the walk shows the
    // instance BACKUP), ours scraped BACKUP with no master transition yet.
    const backupLine = 'INSTANCE "VI_1" BACKUP 100\n';
    await poll(() => ours.fifo.text().includes(backupLine) && theirs.fifo.text().includes(backupLine), { what: 'both BACKUP', timeoutMs: 30_000, diagnose });
    for (const s of [ours, theirs])
      await poll(async () => get(await walk(lab, s.host, INSTANCE), `${INSTANCE}.4.1`) === '1', {
        what: `snmpwalk of ${s.dir} to show VI_1 BACKUP`,
        timeoutMs: 60_000,
        intervalMs: 500,
        diagnose,
      });
    await poll(async () => (await metric('keepalived_vrrp_state')) === 1, { what: 'the metrics to show BACKUP', timeoutMs: 30_000, diagnose });
    expect(await metric('keepalived_become_master_total')).toBe(0);
    expect(o.output()).not.toContain('Entering MASTER STATE');
    expect(k.output()).not.toContain('Entering MASTER STATE');

    // The master crashes.
    await killKeepalivedNs(h1.ns);

    const masterLine = 'INSTANCE "VI_1" MASTER 100\n';
    const masterCalls = ['master', 'notify INSTANCE VI_1 MASTER 100'];
    const masterTrap = instanceTrap('VI_1', 2);
    const ourSyslog = () => matching(syslog.lines(), /^daemon\.info Keepalived_vrrp\[\d+\]: \(VI_1\) Entering MASTER STATE$/);
    const theirSyslog = () => matching(k.output().split('\n'), /\(VI_1\) Entering MASTER STATE$/);
    await poll(
      async () =>
        [ours, theirs].every(
          (s) => s.fifo.text().includes(masterLine) && masterCalls.every((c) => s.notified().includes(c)) && s.trapd.traps().some((t) => masterTrap.test(t)),
        ) &&
        ourSyslog().length > 0 &&
        theirSyslog().length > 0 &&
        (await metric('keepalived_become_master_total')) === 1,
      { what: 'the failover in every channel of both backups', timeoutMs: 60_000, intervalMs: 250, diagnose },
    );
    expect(await metric('keepalived_vrrp_state')).toBe(2);
    expect(await metric('keepalived_release_master_total')).toBe(0);

    // The JSON dumps, while both are MASTER.
    process.kill(Number(readFileSync(join(lab.dir, 'ours-channels.pid'), 'utf8')), SIGJSON);
    process.kill(Number(readFileSync(k.vrrpPidFile, 'utf8')), SIGJSON);
    type Dump = { data: Record<string, unknown>; stats: Record<string, number> }[];
    const dump = (s: Side): Dump | undefined => {
      try {
        return JSON.parse(readFileSync(s.json, 'utf8')) as Dump;
      } catch {
        return undefined; // not there, or not whole yet
      }
    };
    await poll(() => !!dump(ours) && !!dump(theirs), { what: 'both JSON dumps', timeoutMs: 20_000, diagnose });
    const [ourDump, theirDump] = [dump(ours)!, dump(theirs)!];
    for (const d of [ourDump, theirDump]) {
      expect(d).toHaveLength(1);
      expect([d[0].data.iname, d[0].data.state, d[0].data.wantstate, d[0].stats.become_master, d[0].stats.release_master]).toEqual(['VI_1', 2, 2, 1, 0]);
    }

    // Both stop cleanly: every channel has had all it will get (the FIFO readers end).
    await o.kill('SIGTERM', 10_000);
    await k.kill('SIGTERM', 10_000);
    expect(o.exitCode).toBe(0);
    await ours.fifo.ended;
    await theirs.fifo.ended;

    // The FIFO: the same lines as keepalived's, MASTER once.
    expect(theirs.fifo.text()).toBe(`${backupLine}${masterLine}INSTANCE "VI_1" STOP 100\n`);
    expect(ours.fifo.text()).toBe(theirs.fifo.text());

    // The notify scripts: the same calls, notify_master and the generic notify's MASTER once each.
    // STOP calls start as the daemon exits: they may still be running, and are left out.
    const calls = (s: Side) =>
      s
        .notified()
        .filter((c) => !c.includes(' STOP '))
        .sort();
    expect(calls(theirs)).toEqual(['backup', 'master', 'notify INSTANCE VI_1 BACKUP 100', 'notify INSTANCE VI_1 MASTER 100']);
    expect(calls(ours)).toEqual(calls(theirs));

    // Syslog: one "(VI_1) Entering MASTER STATE", as keepalived logs one.
    expect(theirSyslog()).toHaveLength(1);
    expect(ourSyslog()).toHaveLength(1);

    // SNMP: one vrrpInstanceStateChange to MASTER each, with the same varbinds and types.
    const ourMasterTraps = ours.trapd.traps().filter((t) => masterTrap.test(t));
    const theirMasterTraps = theirs.trapd.traps().filter((t) => masterTrap.test(t));
    expect(theirMasterTraps).toHaveLength(1);
    expect(ourMasterTraps).toHaveLength(1);
    expect(trapShape(ourMasterTraps[0])).toEqual(trapShape(theirMasterTraps[0]));
    expect(ourMasterTraps[0]).toContain(`${INSTANCE}.5 = INTEGER: 1`); // initial state BACKUP
    // And the whole run's instance traps: the first state's (the subagent registered before the
    // instances start, as keepalived's), the failover's and the stop's, as keepalived sends them.
    const states = (s: Side): number[] =>
      s.trapd.traps().flatMap((t) => {
        const m = new RegExp(`${INSTANCE.replaceAll('.', '\\.')}\\.4 = INTEGER: (\\d+)`).exec(t);
        return m ? [Number(m[1])] : [];
      });
    await poll(() => states(theirs).length >= 3 && states(ours).length >= states(theirs).length, {
      what: 'the stop traps',
      timeoutMs: 20_000,
      diagnose: () => `ours ${states(ours).join(',')}; theirs ${states(theirs).join(',')}`,
    });
    expect(states(theirs).filter((v) => v === 2)).toHaveLength(1);
    expect(states(ours)).toEqual(states(theirs));

    // The metrics counter agrees with keepalived's own count in its dump.
    expect(theirDump[0].stats.become_master).toBe(1);
  }, 240_000);
});
