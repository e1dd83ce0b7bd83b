// The scenario loader refuses what is beyond the lab's bounds (src/lab/load/limits.ts, stated
// in docs/lab.md) with a lab-limit diagnostic at its place, and does so at once: hostile input
// (an alias bomb, a million entries) must not hang the loader or exhaust its memory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadScenario, loadScenarioText } from '../../src/lab/load/index.js';
import { LIMITS } from '../../src/lab/load/limits.js';

const LAB = join(__dirname, '../../conf-examples/lab');
/** Next to the examples, so `pair/lb1.conf` resolves. */
const FILE = join(LAB, 'under-test.yaml');
const PAIR = `nodes:\n  lb1: pair/lb1.conf\n  lb2: pair/lb2.conf\n`;
/** Generous: the point is that loading does not hang; it takes milliseconds. */
const QUICK_MS = 3000;

function load(yaml: string) {
  const t0 = performance.now();
  const r = loadScenarioText(yaml, FILE);
  const ms = performance.now() - t0;
  return { ...r, ms, lines: r.diagnostics.map(formatDiagnostic) };
}

const pos = (yaml: string, needle: string): string => {
  const lines = yaml.slice(0, yaml.indexOf(needle)).split('\n');
  return `${lines.length}:${lines[lines.length - 1].length + 1}`;
};

const many = (n: number, line: (i: number) => string): string => Array.from({ length: n }, (_, i) => line(i)).join('\n');

describe('scenario bounds', () => {
  const cases: { name: string; yaml: string; at: string; message: RegExp }[] = [
    {
      name: 'a billion-laughs alias bomb (the yaml package counts the aliases)',
      yaml: [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
        'nodes: *j',
        '',
      ].join('\n'),
      at: '2:8',
      message: /too many alias expansions.*\[lab-limit\]/,
    },
    {
      name: 'a wide anchor used as often as the alias count allows',
      yaml: `description: &wide [${Array(20_000).fill('x').join(',')}]\n${PAIR}timeline: [${Array(99).fill('*wide').join(', ')}]\n`,
      at: '1:1',
      message: new RegExp(`more than ${LIMITS.yamlNodes} values once its aliases are expanded.*\\[lab-limit\\]`),
    },
    {
      name: 'a duration over an hour',
      yaml: `duration: 2h\n${PAIR}`,
      at: '1:11',
      message: /the run would last 7200s: a scenario lasts at most 3600s of virtual time \(check the unit: ms, s, m or h\) \[lab-limit\]/,
    },
    {
      name: 'a fault beyond an hour, with no duration',
      yaml: `${PAIR}timeline:\n  - {at: 1s, kill: lb2}\n  - {at: 90m, kill: lb1}\n`,
      at: '6:15',
      message: /the run would last 5410s.*\[lab-limit\]/,
    },
    {
      name: 'a time no clock reaches',
      yaml: `${PAIR}timeline:\n  - {at: ${'9'.repeat(400)}s, kill: lb1}\n`,
      at: '5:413',
      message: /the run would last for ever: .*\[lab-limit\]/,
    },
    {
      name: 'a client above 10,000 requests a second',
      yaml: `${PAIR}clients:\n  user: {target: 192.168.1.100:80, rate: 20000}\n`,
      at: '5:42',
      message: /client user: rate 20000 is above 10000 requests a second.*\[lab-limit\]/,
    },
    {
      name: 'clients above 10,000 requests a second together',
      yaml: `${PAIR}clients:\n  a: {target: 192.168.1.100:80, rate: 6000}\n  b: {target: 192.168.1.100:80, rate: 5000}\n`,
      at: '6:39',
      message: /client b: the clients would send 11000 requests a second together, above 10000 \(lower the rates\) \[lab-limit\]/,
    },
    {
      name: 'more than 16 nodes (refused before any config is read)',
      yaml: `nodes:\n${many(17, (i) => `  n${i}: /nonexistent/n${i}.conf`)}\n`,
      at: '2:3',
      message: /17 nodes: a scenario has at most 16.*\[lab-limit\]/,
    },
    {
      name: 'more than 1,000 timeline entries',
      yaml: `${PAIR}timeline:\n${many(1001, (i) => `  - {at: ${i}ms, link: {node: lb1, interface: eth0, up: true}}`)}\n`,
      at: '5:3',
      message: /1001 timeline entries: a scenario has at most 1000/,
    },
    {
      name: 'more than 1,000 expectations',
      yaml: `${PAIR}expect:\n${many(1001, () => `  - {single-master: {window: 1s}}`)}\n`,
      at: '5:3',
      message: /1001 expectations: a scenario has at most 1000/,
    },
    {
      name: 'more than 1,000 clients',
      yaml: `${PAIR}clients:\n${many(1001, (i) => `  c${i}: {target: 192.168.1.100:80}`)}\n`,
      at: '5:3',
      message: /1001 clients: a scenario has at most 1000/,
    },
    {
      name: 'more than 1,000 real servers',
      yaml: `${PAIR}real-servers:\n${many(1001, (i) => `  w${i}: 10.${i >> 8}.${i & 255}.1:80`)}\n`,
      at: '5:3',
      message: /1001 real servers: a scenario has at most 1000/,
    },
    {
      name: 'more than 50,000 lines and flow separators (the YAML parser would take seconds)',
      yaml: `${PAIR}description: [${Array(60_000).fill('x').join(',')}]\n`,
      at: '1:1',
      message: /more than 50000 lines and flow separators.*\[lab-limit\]/,
    },
    {
      name: 'a scenario over 1 MiB',
      yaml: `${PAIR}${'# padding padding padding\n'.repeat((1 << 20) / 26 + 1)}`,
      at: '1:1',
      message: /the scenario file is larger than 1 MiB.*\[lab-limit\]/,
    },
  ];

  it.each(cases)('refuses $name, at its place, at once', ({ yaml, at, message }) => {
    const r = load(yaml);
    expect(r.scenario).toBeUndefined();
    const limit = r.lines.filter((l) => l.includes('[lab-limit]') || message.test(l));
    expect(limit).toHaveLength(1);
    expect(limit[0]).toMatch(message);
    expect(limit[0]).toContain(`${FILE}:${at}: error: `);
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  it('still finds a key given twice, which the yaml package is told not to check (it takes quadratic time)', () => {
    const yaml = `${PAIR}duration: 5s\nduration: 6s\n`;
    const r = load(yaml);
    expect(r.scenario).toBeUndefined();
    expect(r.lines).toEqual([`${FILE}:${pos(yaml, 'duration: 6s')}: error: Map keys must be unique: 'duration' is there twice [lab-yaml]`]);
    // 40,000 keys: the package's own check would take about a minute.
    expect(load(`${PAIR}description:\n${many(40_000, (i) => `  k${i}: v`)}\n`).ms).toBeLessThan(QUICK_MS);
  });

  it('accepts what is just within them', () => {
    const r = load(
      `duration: 1h\n${PAIR}clients:\n  user: {target: 192.168.1.100:80, rate: 10000}\nexpect:\n${many(1000, () => '  - {single-master: {window: 1s}}')}\n`,
    );
    expect(r.lines.filter((l) => l.includes('error'))).toEqual([]);
    expect(r.scenario?.duration).toBe(3600e6);
  });

  it('a file on disk over 1 MiB is not read whole: /dev/zero is refused too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-bounds-'));
    try {
      const big = join(dir, 'big.yaml');
      writeFileSync(big, '#'.repeat(LIMITS.fileBytes + 1));
      for (const f of [big, '/dev/zero']) {
        const t0 = performance.now();
        const r = loadScenario(f);
        expect(performance.now() - t0).toBeLessThan(QUICK_MS);
        expect(r.diagnostics.map(formatDiagnostic)).toEqual([
          `${f}:1:1: error: the scenario file is larger than 1 MiB, the most a scenario may be (split it into several scenarios) [lab-limit]`,
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docs/lab.md states every bound', () => {
    const doc = readFileSync(join(__dirname, '../../docs/lab.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Bounds'));
    for (const text of ['1 MiB', `${LIMITS.aliases} alias`, '100,000 values', '1 h', '10,000 requests', '16 nodes', '1,000']) expect(section).toContain(text);
  });
});
