// A keyword written without its value: keepalived 2.2.7 either reports and carries on (exit 5, or
// 0) or stops reading at once ("missing a parameter", exit 2), depending on the keyword's handler.
// src/config/missing-value.ts records which (test/fixtures/record-missing-value.mjs); this test
// checks a sample of both kinds against the real keepalived -t when it is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/config/diagnostics.js';
import { loadConfigText } from '../../src/config/index.js';
import { ABORTS_WITHOUT_VALUE } from '../../src/config/missing-value.js';
import { hasKeepalived } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-missing-value-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VI = (line: string) => `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1\n }\n ${line}\n}\n`;
const GD = (line: string) => `global_defs {\n ${line}\n}\n`;
const RS = (line: string) => `virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.0.2 80 {\n  TCP_CHECK {\n   ${line}\n  }\n }\n}\n`;

const CASES: { name: string; text: string; exit: number }[] = [
  { name: 'vrrp_instance priority', text: VI('priority'), exit: 2 },
  { name: 'vrrp_instance advert_int', text: VI('advert_int'), exit: 2 },
  { name: 'vrrp_instance state', text: VI('state'), exit: 2 },
  { name: 'vrrp_instance nopreempt (a flag)', text: VI('nopreempt'), exit: 0 },
  { name: 'global_defs router_id', text: GD('router_id'), exit: 5 },
  { name: 'global_defs vrrp_garp_master_delay', text: GD('vrrp_garp_master_delay'), exit: 2 },
  { name: 'TCP_CHECK connect_timeout', text: RS('connect_timeout'), exit: 2 },
];

describe('a keyword without its value', () => {
  it('the table holds both kinds', () => {
    expect(ABORTS_WITHOUT_VALUE.get('vrrp_instance')?.has('priority')).toBe(true);
    expect(ABORTS_WITHOUT_VALUE.get('global_defs')?.has('router_id')).toBe(false);
  });

  it("stops the config test with exit 2 and keepalived's message where keepalived stops", () => {
    const r = loadConfigText(VI('priority'), 'mv.conf', { configId: 'x' });
    expect(exitCodeOf(r.diagnostics)).toBe(2);
    expect(r.diagnostics.find((d) => d.rule === 'value-missing')).toMatchObject({
      line: 7,
      message: '*** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2',
    });
  });

  describe.skipIf(!hasKeepalived())('agrees with keepalived -t', () => {
    it.each(CASES)('$name', ({ name, text, exit }) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.conf`);
      writeFileSync(file, text);
      const k = spawnSync('keepalived', ['-t', '-f', file], { encoding: 'utf8', timeout: 30_000 });
      expect(k.status, `keepalived -t: ${k.stderr}`).toBe(exit);
      expect(exitCodeOf(loadConfigText(text, file, { configId: 'x' }).diagnostics)).toBe(exit);
    });
  });
});
