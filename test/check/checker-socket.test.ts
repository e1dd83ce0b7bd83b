// bind_if and fwmark on the wire: the checkers run in a namespace with two ways to the real
// servers, eth0 (the default route) and k15a; an `ip rule` sends packets marked 7 through k15a.
// nftables counters in the checkers' namespace count the first packet of each check (the TCP SYN,
// the UDP datagram) by the interface it leaves through and by its mark. keepalived 2.2.7
// (layer4.c) sets SO_MARK and SO_BINDTODEVICE before connect() for TCP_CHECK, HTTP_GET,
// SSL_GET, SMTP_CHECK and DNS_CHECK; its UDP_CHECK takes the mark but not the interface.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsCapability, runOk, type Lab } from '../helpers/netns.js';

const cap = netnsCapability();
const nft = ((): string | undefined => {
  try {
    execFileSync('nft', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'nft not installed';
  }
})();
const skip = !cap.ok ? cap.reason : nft;
if (skip) console.warn(`checker bind_if/fwmark tests skipped: ${skip}`);

const S = 58; // lab subnet 10.99.58.0/24 (eth0); k15a is 10.98.58.0/24; the servers are 10.97.58.9
const SERVER = `10.97.${S}.9`;
const COUNTERS = ['syn_eth0', 'syn_k15a', 'syn_mark', 'udp_eth0', 'udp_k15a', 'udp_mark'] as const;
type Counts = Record<(typeof COUNTERS)[number], number>;

/** The real servers: HTTP on 8080, HTTPS on 8443, SMTP on 2525, DNS on 53. */
const SERVERS = `
import { createServer } from 'node:net';
import { createServer as tlsServer } from 'node:tls';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
const [dir] = process.argv.slice(2);
const http = (c) => c.once('data', () => c.end('HTTP/1.0 200 OK\\r\\n\\r\\nok\\n'));
createServer(http).listen(8080, '${SERVER}');
tlsServer({ key: readFileSync(dir + '/srv.key'), cert: readFileSync(dir + '/srv.pem') }, http).listen(8443, '${SERVER}');
createServer((c) => {
  c.write('220 rs ESMTP\\r\\n');
  c.on('data', (d) => c.write(String(d).startsWith('HELO') ? '250 rs\\r\\n' : '221 bye\\r\\n'));
}).listen(2525, '${SERVER}');
const dns = createSocket('udp4');
dns.on('message', (q, from) => { const r = Buffer.from(q); r.writeUInt16BE(0x8180, 2); dns.send(r, from.port, from.address); });
dns.bind(53, '${SERVER}', () => console.log('listening'));
`;

/** Runs each checker of the config alone, in order, and prints its result with the counters it moved. */
const CHECKERS = `
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfigText } from '../../src/config/index.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
const { config, diagnostics } = loadConfigText(readFileSync(process.argv[2], 'utf8'), 'k.conf', { configId: 'x' });
for (const d of diagnostics.filter((d) => d.severity === 'error')) console.log(JSON.stringify({ error: d.message }));
const counts = () => Object.fromEntries(JSON.parse(execFileSync('nft', ['-j', 'list', 'counters', 'table', 'inet', 'kt_bindif'], { encoding: 'utf8' })).nftables.filter((x) => x.counter).map((x) => [x.counter.name, x.counter.packets]));
const probe = makeProbe(new ScriptRunner());
const vs = config.resolved.virtualServers[0];
for (const rs of vs.realServers) {
  const before = counts();
  const r = await probe({ ...rs.checks[0], vs, rs });
  const after = counts();
  console.log(JSON.stringify({ rs: rs.port, ...r, moved: Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]])) }));
}
probe.dispose();
process.exit(0);
`;

const rs = (port: number, checker: string) => `  real_server ${SERVER} ${port} {\n    ${checker}\n  }`;
const CONFIG = `virtual_server 10.97.${S}.100 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
${[
  rs(8080, 'TCP_CHECK {\n      connect_timeout 3\n    }'),
  rs(8081, 'TCP_CHECK {\n      connect_port 8080\n      bind_if k15a\n    }'),
  rs(8082, 'TCP_CHECK {\n      connect_port 8080\n      fwmark 7\n    }'),
  rs(8083, 'HTTP_GET {\n      url {\n        path /\n      }\n      connect_port 8080\n      bind_if k15a\n    }'),
  rs(8084, 'SSL_GET {\n      url {\n        path /\n      }\n      connect_port 8443\n      fwmark 7\n    }'),
  rs(8085, 'SSL_GET {\n      url {\n        path /\n      }\n      connect_port 8443\n      bind_if k15a\n    }'),
  rs(8086, 'SMTP_CHECK {\n      connect_port 2525\n      bind_if k15a\n    }'),
  rs(8087, 'DNS_CHECK {\n      connect_port 53\n      name example.org\n      bind_if k15a\n    }'),
  rs(8088, 'DNS_CHECK {\n      connect_port 53\n      name example.org\n      fwmark 7\n    }'),
  rs(8089, 'UDP_CHECK {\n      connect_port 53\n      bind_if k15a\n    }'),
  rs(8090, 'UDP_CHECK {\n      connect_port 53\n      fwmark 7\n    }'),
  rs(8091, 'TCP_CHECK {\n      connect_port 8080\n      bind_if kt15none\n    }'),
].join('\n')}
}
`;

describe.skipIf(skip)('checker bind_if and fwmark on the wire', () => {
  let lab: Lab;
  const results = new Map<number, { ok: boolean; reason: string; unrun?: boolean; moved: Counts }>();
  beforeAll(async () => {
    lab = await createLab({ hosts: 2, subnet: S });
    const [client, server] = lab.hosts;
    const ip = (ns: string, ...args: string[]) => runOk('ip', ['-n', ns, ...args]);
    await ip(client.ns, 'link', 'add', 'k15a', 'type', 'veth', 'peer', 'name', 'k15b', 'netns', server.ns);
    await ip(client.ns, 'addr', 'add', `10.98.${S}.1/24`, 'dev', 'k15a');
    await ip(server.ns, 'addr', 'add', `10.98.${S}.2/24`, 'dev', 'k15b');
    await ip(server.ns, 'addr', 'add', `${SERVER}/32`, 'dev', 'lo');
    for (const [ns, dev] of [
      [client.ns, 'k15a'],
      [server.ns, 'k15b'],
      [server.ns, 'lo'],
      [client.ns, 'lo'],
    ])
      await ip(ns, 'link', 'set', dev, 'up');
    await ip(client.ns, 'route', 'add', 'default', 'via', `10.99.${S}.2`, 'dev', 'eth0', 'metric', '100');
    await ip(client.ns, 'route', 'add', 'default', 'via', `10.98.${S}.2`, 'dev', 'k15a', 'metric', '200');
    await ip(client.ns, 'route', 'add', 'default', 'via', `10.98.${S}.2`, 'dev', 'k15a', 'table', '107');
    await ip(client.ns, 'rule', 'add', 'fwmark', '7', 'table', '107');
    const count = (name: string, match: string) => `    ${match} counter name ${name}`;
    const rules = [
      count('syn_eth0', 'oifname "eth0" tcp flags syn'),
      count('syn_k15a', 'oifname "k15a" tcp flags syn'),
      count('syn_mark', 'meta mark 7 tcp flags syn'),
      count('udp_eth0', 'oifname "eth0" udp dport 53'),
      count('udp_k15a', 'oifname "k15a" udp dport 53'),
      count('udp_mark', 'meta mark 7 udp dport 53'),
    ];
    const table = `table inet kt_bindif {\n${COUNTERS.map((c) => `  counter ${c} {}`).join('\n')}\n  chain out {\n    type filter hook output priority 0;\n${rules.join('\n')}\n  }\n}\n`;
    await lab.exec(client, ['nft', '-f', '-'], { input: table }).then((r) => expect(r.stderr).toBe(''));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: lab.dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(lab.dir, 'srv.key'),
      '-out',
      join(lab.dir, 'srv.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=rs',
    );
    const servers = await lab.spawnNode(server, SERVERS, { resolveDir: import.meta.dirname, name: 'servers', args: [lab.dir] });
    await servers.waitForLine(/listening/, { timeoutMs: 20_000 });
    const conf = join(lab.dir, 'checkers.conf');
    execFileSync('tee', [conf], { input: CONFIG, stdio: ['pipe', 'ignore', 'inherit'] });
    const checkers = await lab.spawnNode(client, CHECKERS, { resolveDir: import.meta.dirname, name: 'checkers', args: [conf] });
    await checkers.exited;
    for (const line of checkers
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))) {
      const r = JSON.parse(line) as { rs?: number; error?: string };
      expect(r.error).toBeUndefined();
      results.set(r.rs!, r as never);
    }
    expect(results.size, checkers.output()).toBe(12);
  }, 120_000);
  afterAll(() => lab?.teardown());

  const none: Counts = { syn_eth0: 0, syn_k15a: 0, syn_mark: 0, udp_eth0: 0, udp_k15a: 0, udp_mark: 0 };
  const got = (port: number) => results.get(port)!;

  it('without them, a check leaves by the default route, unmarked', () => {
    expect(got(8080)).toMatchObject({ ok: true, moved: { ...none, syn_eth0: 1 } });
  });

  it('bind_if sends the SYN out of that interface (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK)', () => {
    for (const port of [8081, 8083, 8085, 8086]) expect(got(port), `rs ${port}`).toMatchObject({ ok: true, moved: { ...none, syn_k15a: 1 } });
  });

  it('fwmark marks the SYN itself, so ip rule fwmark routes it (TCP_CHECK, SSL_GET)', () => {
    for (const port of [8082, 8084]) expect(got(port), `rs ${port}`).toMatchObject({ ok: true, moved: { ...none, syn_k15a: 1, syn_mark: 1 } });
  });

  it('DNS_CHECK takes both; UDP_CHECK the mark only, as keepalived 2.2.7', () => {
    expect(got(8087)).toMatchObject({ ok: true, moved: { ...none, udp_k15a: 1 } });
    expect(got(8088)).toMatchObject({ ok: true, moved: { ...none, udp_k15a: 1, udp_mark: 1 } });
    expect(got(8089)).toMatchObject({ moved: { ...none, udp_eth0: 1 } });
    expect(got(8090)).toMatchObject({ moved: { ...none, udp_k15a: 1, udp_mark: 1 } });
  });

  it('an interface that is not there: keepalived words, no packet, no verdict on the server', () => {
    expect(got(8091)).toEqual({ rs: 8091, ok: false, unrun: true, reason: "Checker can't bind to device kt15none: No such device", moved: none });
  });
});
