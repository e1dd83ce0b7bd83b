// The metrics' text and the listener's bounds, on a real HTTP listener on the loopback: the load
// balancer's series come from the listing and the checker pool as they stand at the scrape, and
// the listener answers only GET /metrics, refuses oversized headers and holds few connections.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsRegistry, type CheckedServer, type MetricsSources } from '../../src/daemon/metrics.js';
import { closeMetricsServer, METRICS_LIMITS, parseMetricsListen, startMetricsServer } from '../../src/daemon/metrics-server.js';
import type { ListedService } from '../../src/lvs/ipvsadm-list.js';
import type { Server } from 'node:http';
import { sample } from '../helpers/scrape.js';
import type { AddressInfo } from 'node:net';

const zero = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
const rates = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
const service = (servers: ListedService['servers']): ListedService => ({
  protocol: 'TCP',
  address: '10.0.0.1',
  port: 80,
  family: 4,
  scheduler: 'rr',
  stats: { ...zero, conns: 7, inbytes: 700, outbytes: 7000 },
  rate: rates,
  servers,
});
const server = (address: string, over: Partial<ListedService['servers'][number]> = {}): ListedService['servers'][number] => ({
  address,
  port: 8080,
  family: 4,
  method: 'NAT',
  weight: 3,
  activeConns: 2,
  inactConns: 1,
  stats: { ...zero, conns: 5, inbytes: 500, outbytes: 5000 },
  rate: rates,
  ...over,
});
const checked = (address: string, alive: boolean, stats: CheckedServer['stats']): CheckedServer =>
  ({
    vs: { kind: 'address', protocol: 'TCP', address: '10.0.0.1', port: 80 },
    rs: { address, port: 8080 },
    alive,
    weight: alive ? 3 : 0,
    stats,
  }) as unknown as CheckedServer;

const sources = (over: Partial<MetricsSources> = {}): MetricsSources => ({
  engine: () => undefined,
  scripts: () => [],
  services: () => [service([server('192.168.0.2')])],
  checked: () => [
    checked('192.168.0.2', true, { checks: 10, failures: 1, lastOk: true, lastDuration: 0.004, downs: 1, ups: 1 }),
    checked('192.168.0.3', false, { checks: 4, failures: 4, lastOk: false, lastDuration: 1, downs: 1, ups: 0 }),
  ],
  reloads: { success: 2, refused: 1, lastOk: false, lastSuccessAt: 1700000000 },
  version: '0.1.0',
  ...over,
});

const line = sample;
const RS2 = 'proto="TCP",local_address="10.0.0.1",local_port="80",remote_address="192.168.0.2",remote_port="8080"';
const RS3 = 'proto="TCP",local_address="10.0.0.1",local_port="80",remote_address="192.168.0.3",remote_port="8080"';

describe('metrics', () => {
  it('shows virtual and real servers, in service or not, and the reloads', async () => {
    const text = await metricsRegistry(sources()).metrics();
    expect(line(text, 'keepalived_up')).toBe(1);
    expect(line(text, 'keepalived_virtual_server_connections_total{proto="TCP",local_address="10.0.0.1",local_port="80"}')).toBe(7);
    expect(line(text, 'keepalived_virtual_server_real_servers_up{proto="TCP",local_address="10.0.0.1",local_port="80"}')).toBe(1);
    expect(line(text, `keepalived_real_server_outgoing_bytes_total{${RS2}}`)).toBe(5000);
    expect(line(text, `keepalived_real_server_up{${RS2}}`)).toBe(1);
    expect(line(text, `keepalived_real_server_weight{${RS2}}`)).toBe(3);
    expect(line(text, `keepalived_real_server_active_connections{${RS2}}`)).toBe(2);
    expect(line(text, `keepalived_real_server_check_duration_seconds{${RS2}}`)).toBe(0.004);
    // Out of service: still shown, from the checker pool.
    expect(line(text, `keepalived_real_server_up{${RS3}}`)).toBe(0);
    expect(line(text, `keepalived_real_server_check_status{${RS3}}`)).toBe(0);
    expect(line(text, `keepalived_real_server_check_failures_total{${RS3}}`)).toBe(4);
    expect(line(text, `keepalived_real_server_check_up_down_total{${RS3}}`)).toBe(1);
    expect(text).toContain('# TYPE keepalived_real_server_checks_total counter');
    expect(line(text, 'keepalived_ts_reloads_total{result="refused"}')).toBe(1);
    expect(line(text, 'keepalived_ts_config_last_reload_successful')).toBe(0);
  });

  it('reads the sources again at each scrape: a server gone from the table is gone from the metrics', async () => {
    let servers = [server('192.168.0.2')];
    const reg = metricsRegistry(sources({ services: () => [service(servers)], checked: () => [] }));
    expect(line(await reg.metrics(), `keepalived_real_server_connections_total{${RS2}}`)).toBe(5);
    servers = [];
    expect(line(await reg.metrics(), `keepalived_real_server_connections_total{${RS2}}`)).toBeUndefined();
  });

  it('parses --prometheus values', () => {
    expect(parseMetricsListen('9650')).toEqual({ host: '127.0.0.1', port: 9650 });
    expect(parseMetricsListen('0.0.0.0:9650')).toEqual({ host: '0.0.0.0', port: 9650 });
    expect(parseMetricsListen('[::1]:9650')).toEqual({ host: '::1', port: 9650 });
    for (const bad of ['', '70000', 'host:9650', '1.2.3:9650', '::1:9650']) expect(parseMetricsListen(bad)).toHaveProperty('error');
  });
});

describe('metrics listener', () => {
  let srv: Server | undefined;
  afterEach(async () => {
    if (srv) await closeMetricsServer(srv);
    srv = undefined;
  });
  const start = async (): Promise<string> => {
    srv = await startMetricsServer(metricsRegistry(sources()), { host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  };

  it('answers GET /metrics only', async () => {
    const base = await start();
    const ok = await fetch(`${base}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await ok.text()).toContain('keepalived_up 1');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('refuses headers over its limit and holds at most its connection limit', async () => {
    const base = await start();
    const big = await fetch(`${base}/metrics`, { headers: { 'x-pad': 'a'.repeat(METRICS_LIMITS.headerBytes + 1) } });
    expect(big.status).toBe(431);
    const port = (srv!.address() as AddressInfo).port;
    // Idle connections up to the limit, then one more: the server closes that one at once.
    const held = await Promise.all(
      Array.from(
        { length: METRICS_LIMITS.connections },
        () =>
          new Promise<ReturnType<typeof connect>>((r) => {
            const c = connect(port, '127.0.0.1', () => r(c));
          }),
      ),
    );
    try {
      const extra = connect(port, '127.0.0.1');
      const closed = await new Promise<boolean>((r) => {
        extra.on('close', () => r(true));
        extra.on('error', () => r(true));
        setTimeout(() => r(false), 5000);
      });
      expect(closed).toBe(true);
    } finally {
      for (const c of held) c.destroy();
    }
  });
});
