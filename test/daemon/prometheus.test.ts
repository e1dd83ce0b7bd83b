// The Prometheus endpoint, scraped by a real Prometheus server (Debian's package): keepalived-ts
// runs in a network namespace with --prometheus, a private prometheus (its own config and data
// directory in the lab's temporary directory, no service) scrapes it every second from the same
// namespace, the real keepalived 2.2.7 takes the VIP over with a higher priority, a SIGHUP
// reloads, and queries on prometheus' HTTP API return what happened, under keepalived-exporter's
// names and labels.
import { spawnSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, netnsCapability, poll, type Lab } from '../helpers/netns.js';
import { nsGet } from '../helpers/scrape.js';
import { startOurs } from '../helpers/sync-pair.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const prometheus = spawnSync('sh', ['-c', 'command -v prometheus']).stdout?.toString().trim();
const why = !net.ok ? net.reason : !ka.ok ? ka.reason : !prometheus ? 'the prometheus binary is absent (apt-get install prometheus)' : undefined;
if (why) console.warn(`Prometheus scrape test skipped: ${why}`);

const SUBNET = 94;

const instance = (prio: number, script: boolean) => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 31
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    10.99.${SUBNET}.31/24
  }${script ? '\n  track_script {\n    chk_ok\n  }' : ''}
}
`;

/** One instant query on prometheus' HTTP API, from inside the namespace: the series and values. */
async function query(lab: Lab, ns: string, port: number, q: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const text = await nsGet(lab, ns, `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = JSON.parse(text ?? '{"status":"error"}') as {
    status: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') return [];
  return body.data!.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
}

/** The value of a query that gives one series, or undefined. */
const one = async (lab: Lab, ns: string, port: number, q: string): Promise<number | undefined> => {
  const r = await query(lab, ns, port, q);
  return r.length === 1 ? r[0].value : undefined;
};

describe.skipIf(!!why)('--prometheus scraped by a real Prometheus server', () => {
  it('shows a failover, the reload and the tracked script as keepalived-exporter names them', async () => {
    const lab = await createLab({ hosts: 2, subnet: SUBNET });
    const [ours, theirs] = lab.hosts;
    // Ports in a namespace of our own: nothing else listens there.
    const metricsPort = 20000 + Math.floor(Math.random() * 20000);
    const promPort = metricsPort + 1;
    try {
      const file = join(lab.dir, 'ours.conf');
      const flag = join(lab.dir, 'ok');
      writeFileSync(flag, '');
      writeFileSync(file, `vrrp_script chk_ok {\n  script "/usr/bin/test -e ${flag}"\n  interval 1\n}\n${instance(100, true)}`);
      const o = startOurs(lab, ours, 'prom', file, [`--prometheus=${metricsPort}`]);
      const promConf = join(lab.dir, 'prometheus.yml');
      writeFileSync(
        promConf,
        `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: keepalived\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
      );
      const p = lab.spawn(
        ours,
        [
          prometheus,
          `--config.file=${promConf}`,
          `--storage.tsdb.path=${join(lab.dir, 'prom-data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { name: 'prometheus' },
      );
      const diagnose = () => `ours:\n${o.tail(20)}\nprometheus:\n${p.tail(20)}`;
      const value = (q: string) => one(lab, ours.ns, promPort, q);
      /** Until the query gives one series whose value passes `ok`. */
      const until = (q: string, ok: (v: number) => boolean, what: string, more = () => '') =>
        poll(async () => ok((await value(q)) ?? NaN), { what, timeoutMs: 60_000, intervalMs: 500, diagnose: () => `${diagnose()}${more()}` });

      // Alone, ours becomes MASTER: keepalived_vrrp_state 2 for its VIP, with keepalived-exporter's labels.
      await until('keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="31",ip_address="10.99.94.31/24"}', (v) => v === 2, 'prometheus to scrape MASTER');
      expect(await value('keepalived_up')).toBe(1);
      expect(await value('keepalived_script_status{name="chk_ok"}')).toBe(1);
      expect(await value('sum(keepalived_become_master_total{iname="VI_1",vrid="31"})')).toBe(1);

      // The real keepalived with a higher priority takes over: ours releases master and goes BACKUP.
      const k = lab.keepalived(theirs, instance(200, false), { name: 'ka-prom' });
      await until(
        'keepalived_vrrp_state{iname="VI_1"}',
        (v) => v === 1,
        'prometheus to scrape BACKUP after the failover',
        () => `\nkeepalived:\n${k.tail(20)}`,
      );
      expect(await value('keepalived_release_master_total{iname="VI_1",state="BACKUP"}')).toBe(1);
      expect(await value('keepalived_become_master_total{iname="VI_1",state="BACKUP"}')).toBe(1);
      // It was MASTER before: the history prometheus holds says so.
      expect(await value('max_over_time(keepalived_vrrp_state{iname="VI_1"}[10m])')).toBe(2);
      await until('keepalived_advertisements_received_total{iname="VI_1",state="BACKUP"}', (v) => v >= 2, 'adverts received from keepalived');
      expect(await value('keepalived_advertisements_sent_total{iname="VI_1"}')).toBeGreaterThan(0);

      // The tracked script fails: keepalived_script_status goes 0 (BAD).
      unlinkSync(flag);
      await until('keepalived_script_status{name="chk_ok"}', (v) => v === 0, 'the script BAD');

      // A reload (SIGHUP): counted by result, and the endpoint serves on after it.
      o.signal('SIGHUP');
      await until('keepalived_ts_reloads_total{result="success"}', (v) => v === 1, 'the reload counted');
      expect(await value('keepalived_ts_reloads_total{result="refused"}')).toBe(0);
      expect(await value('keepalived_ts_config_last_reload_successful')).toBe(1);
      expect(await value('count(keepalived_ts_build_info{keepalived_version="2.2.7"})')).toBe(1);
      expect(await value('up{job="keepalived"}')).toBe(1);

      await k.kill('SIGTERM', 5000);
      await o.kill('SIGTERM', 5000);
      expect(o.exitCode).toBe(0);
      await p.kill('SIGTERM', 5000);
    } finally {
      await lab.teardown();
    }
  }, 240_000);
});
