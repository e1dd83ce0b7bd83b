// A director that is BACKUP does not have the VIP, so its load balancer cannot listen on it yet:
// it must say so, keep its checkers running, and serve as soon as VRRP brings the address.
// Real daemon, real address change, in namespaces this test makes.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, netnsCapability, REPO_ROOT, type Lab } from '../helpers/netns.js';

const cap = netnsCapability();
if (!cap.ok) console.log(`skipping the VIP-listen test: ${cap.reason}`);

describe.skipIf(!cap.ok)('load balancer on a director without the VIP', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ hosts: 2, subnet: 37 });
  });
  afterAll(() => lab?.teardown());

  it('waits for the address, runs its checkers meanwhile, then serves', async () => {
    const [director, server] = lab.hosts;
    const rsAddr = server.address;
    lab.spawn(server, [process.execPath, '-e', `require('node:http').createServer((q, r) => r.end('real')).listen(8081, '${rsAddr}')`], { name: 'rs' });
    const conf = join(lab.dir, 'lb.conf');
    writeFileSync(
      conf,
      `virtual_server 10.99.37.100 8080 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server ${rsAddr} 8081 {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`,
    );
    const d = lab.spawn(director, [process.execPath, join(REPO_ROOT, 'dist/keepalived-ts.mjs'), '-n', '-l', '-C', '-f', conf, '-p', join(lab.dir, 'lb.pid')], {
      name: 'director',
      env: { ...process.env, KEEPALIVED_TS_CONTROL: join(lab.dir, 'ctl.sock') },
    });
    await d.waitForLine(/10\.99\.37\.100:8080: the address is not on this host yet/, { timeoutMs: 10_000 });
    expect(d.output()).not.toMatch(/cannot start the load balancer/);
    // What VRRP does on becoming MASTER.
    await lab.exec(director, ['ip', 'addr', 'add', '10.99.37.100/24', 'dev', 'eth0']);
    await d.waitForLine(/virtual server TCP 10\.99\.37\.100:8080 ready/, { timeoutMs: 5_000 });
    const get = await lab.exec(
      server,
      [
        process.execPath,
        '-e',
        `require('node:http').get('http://10.99.37.100:8080/', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); })`,
      ],
      { timeoutMs: 5_000 },
    );
    expect(get.stdout.trim()).toBe('real');
    await d.kill('SIGTERM');
  }, 30_000);
});
