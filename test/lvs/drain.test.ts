// Draining: a real server that leaves (checker down, or weight 0 with inhibit_on_failure) keeps
// its connections in progress until they close, gets no new client, and its counters count down
// to zero even though it is out of the table (IPVS, expire_nodest_conn=0).
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/daemon/clock.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { client, config, echoServer, freePort, until, whoAnswers } from './net-helpers.js';
import { withChecks } from './checked.js';

const runner = new ScriptRunner();
afterAll(() => runner.shutdown());

describe.each([
  ['checker down: out of the table', false],
  ['checker down with inhibit_on_failure: weight 0', true],
])('draining, %s', (_name, inhibit) => {
  it('a long-lived connection carries on across the removal; new clients go elsewhere; counters reach 0', async () => {
    const servers = { A: await echoServer('A'), B: await echoServer('B') };
    const vsPort = await freePort();
    const rs = (p: number) => `  real_server 127.0.0.1 ${p} {\n    TCP_CHECK {\n      connect_timeout 0.3\n    }\n  }`;
    const lb = new Balancer(
      config(`virtual_server 127.0.0.1 ${vsPort} {
  delay_loop 0.2
  retry 1
  delay_before_retry 0.1
  warmup 0
  lvs_sched rr
  lvs_method NAT
  protocol TCP
${inhibit ? '  inhibit_on_failure\n' : ''}${rs(servers.A.port)}
${rs(servers.B.port)}
}
`),
      withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0 }),
    );
    await lb.start();
    const long = await client(vsPort);
    const first = await long.ask('hello');
    const name = first.split(':')[0] as 'A' | 'B';
    const other = name === 'A' ? 'B' : 'A';
    const dest = lb.services[0].members.find((m) => m.dest.port === servers[name].port)!.dest;
    expect(dest.activeConns).toBe(1);

    // Its listener goes away (open connections stay): the checker takes it out.
    servers[name].server.close();
    const listed = () => lb.listing()[0].servers.find((s) => s.port === servers[name].port);
    await until(() => (inhibit ? listed()?.weight === 0 : listed() === undefined), 4000, 'the server to leave');
    if (inhibit) expect(listed()).toMatchObject({ weight: 0, activeConns: 1 });

    // The connection in progress still works, through the same real server.
    expect(await long.ask('still there?')).toBe(`${name}:still there?`);
    expect(dest.activeConns).toBe(1);
    for (let i = 0; i < 6; i++) expect(await whoAnswers(vsPort)).toBe(other);

    await long.close();
    await until(() => dest.activeConns + dest.inactConns === 0, 2000, 'the counters to reach 0');
    expect(dest.stats.totals.conns).toBe(1);
    expect(dest.stats.totals.outbytes).toBe(first.length + `${name}:still there?`.length);
    await lb.stop();
    servers[other].server.close();
    for (const s of servers[name].sockets) s.destroy();
  }, 15_000);
});
