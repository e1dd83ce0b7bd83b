// Broken input never crashes the config front end: mutated configs give diagnostics, not
// exceptions, and every diagnostic is well formed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { runLint } from '../../src/lint/rules.js';

/** The benchmark's million-block line (test/bench/config-gen.mjs SEQ_MILLION). */
const SEQ_MILLION = '~SEQ(i,1,1000000) vrrp_script s$i { script /bin/true }\n';

const EXAMPLES = join(__dirname, '../../conf-examples');
const corpus = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.conf'))
  .map((f) => readFileSync(join(EXAMPLES, f), 'latin1'));

function check(text: string): void {
  const r = loadConfigText(text, 'fuzz.conf', { configId: 'x', random: () => 0.5, maxLines: 20_000 });
  runLint(r.config);
  for (const d of r.diagnostics) {
    expect(d.file).toBe('fuzz.conf');
    expect(Number.isInteger(d.line) && d.line >= 1).toBe(true);
    expect(Number.isInteger(d.col) && d.col >= 1).toBe(true);
    expect(['error', 'warning']).toContain(d.severity);
    expect(d.rule).toMatch(/^[a-z0-9-]+$/);
    expect(d.message.length).toBeGreaterThan(0);
  }
}

const mutation = fc.oneof(
  // truncate anywhere
  fc.tuple(fc.constant('truncate'), fc.nat(), fc.constant('')),
  // insert a random chunk: braces, quotes, comment and preprocessor characters, binary bytes
  fc.tuple(
    fc.constant('insert'),
    fc.nat(),
    fc.string({ unit: fc.constantFrom('{', '}', '"', "'", '#', '!', '$', '@', '~', '\\', '\n', ' ', '\0', '\xff', 'x', '1', '(', ')', ',') }),
  ),
  fc.tuple(fc.constant('insert'), fc.nat(), fc.string({ unit: 'binary', maxLength: 40 })),
  // delete a span
  fc.tuple(fc.constant('delete'), fc.nat(), fc.nat({ max: 200 }).map(String)),
);

function apply(text: string, muts: [string, number, string][]): string {
  let t = text;
  for (const [op, pos, arg] of muts) {
    const p = t.length ? pos % (t.length + 1) : 0;
    if (op === 'truncate') t = t.slice(0, p);
    else if (op === 'insert') t = t.slice(0, p) + arg + t.slice(p);
    else t = t.slice(0, p) + t.slice(p + Number(arg));
  }
  return t;
}

// Behaviour only: the time and memory of these inputs are measured by the benchmark, so the bound
// here is generous enough for a busy 2-core box.
describe('fuzzing the config front end', { timeout: 60_000 }, () => {
  it('mutated example configs give diagnostics, never exceptions', () => {
    fc.assert(
      fc.property(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 8 }), (base, muts) =>
        check(apply(base, muts as [string, number, string][])),
      ),
      { numRuns: 400, seed: 20261123 },
    );
  });

  it('arbitrary text (including binary) is handled', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (s) => check(s)),
      { numRuns: 300, seed: 7 },
    );
  });

  it('deep nesting, many unclosed blocks, and stray closers', () => {
    check('a {\n'.repeat(5000));
    check('}\n'.repeat(5000));
    check('vrrp_instance X {\n'.repeat(2000) + '}\n'.repeat(1000));
    const r = loadConfigText('a { '.repeat(3000), 'fuzz.conf', { configId: 'x' });
    expect(r.diagnostics.find((d) => d.rule === 'brace-missing')?.message).toContain("There are 3000 missing '}'s");
  });

  it('runaway expansion is cut off with a diagnostic', () => {
    const r = loadConfigText('~SEQ(A, 1, 2000) ~SEQ(B, 1, 2000) x $A $B\n', 'fuzz.conf', { configId: 'x', maxLines: 10_000 });
    expect(r.diagnostics.map((d) => d.rule)).toContain('expansion-limit');
    // A cycle that adds text: keepalived stops at its line length and reads on (exit 0).
    const rec = loadConfigText('$A=$B $B\n$B=$A $A\nx $A\n', 'fuzz.conf', { configId: 'x' });
    expect(rec.diagnostics.map((d) => `${d.rule} ${d.exit}`)).toContain('definition-recursive 0');
    // A cycle that only renames: keepalived never finishes reading; we stop and say so (exit 5).
    const loop = loadConfigText('$A=$B\n$B=$A\nglobal_defs {\n router_id $A\n}\n', 'fuzz.conf', { configId: 'x' });
    expect(loop.diagnostics.map((d) => `${d.line} ${d.rule} ${d.exit}`)).toEqual(['4 definition-recursive 5']);
    expect(loop.diagnostics[0].message).toBe('definition $A names itself through $B: keepalived substitutes it forever and never finishes reading');
  });

  it('a huge file parses', () => {
    const block = (i: number) =>
      `vrrp_instance VI_${i} {\n interface eth0\n virtual_router_id ${(i % 255) + 1}\n priority 100\n virtual_ipaddress {\n  10.${i >> 8}.${i & 255}.1\n }\n}\n`;
    const text = Array.from({ length: 6000 }, (_, i) => block(i)).join('');
    const r = loadConfigText(text, 'fuzz.conf', { configId: 'x' });
    expect(r.config.vrrpInstances).toHaveLength(6000);
  });

  it('deep $VAR chains: each level expands, and a chain deeper than the limit is reported', () => {
    const chain = (n: number): string => ['$V0=deep', ...Array.from({ length: n }, (_, i) => `$V${i + 1}=$V${i}`)].join('\n');
    const ok = loadConfigText(`${chain(30)}\nglobal_defs {\n router_id $V30\n}\n`, 'fuzz.conf', { configId: 'x' });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.config.globalDefs.routerId).toBe('deep');
    // keepalived 2.2.7 -t substitutes a 200-deep chain (exit 0), and so do we.
    const long = loadConfigText(`${chain(200)}\nglobal_defs {\n router_id $V200\n}\n`, 'fuzz.conf', { configId: 'x' });
    expect(long.diagnostics).toEqual([]);
    expect(long.config.globalDefs.routerId).toBe('deep');
    // Our bound on the recursion: a chain deeper than 1000 is reported, not followed.
    check(`${chain(5000)}\nglobal_defs {\n router_id $V5000\n}\n`);
    const deep = loadConfigText(`${chain(5000)}\nglobal_defs {\n router_id $V5000\n}\n`, 'fuzz.conf', { configId: 'x' });
    expect(deep.diagnostics.map((d) => `${d.rule} ${d.severity}`)).toEqual(['definition-recursive error']);
    // Each level uses the one below twice: the text doubles per level, and the work is capped.
    const wide = ['$W0=w', ...Array.from({ length: 40 }, (_, i) => `$W${i + 1}=$W${i} $W${i}`)].join('\n');
    const r = loadConfigText(`${wide}\nglobal_defs {\n router_id $W40\n}\n`, 'fuzz.conf', { configId: 'x' });
    // keepalived logs that the line would exceed its maximum length, and exits 0.
    expect(r.diagnostics.map((d) => `${d.rule} ${d.exit}`)).toEqual(['expansion-limit 0']);
  });

  // No time bound here: the benchmark (npm run bench) measures this line's time and memory.
  it('a ~SEQ line generating a million blocks reads them all; one more is cut off', { timeout: 900_000 }, () => {
    const r = loadConfigText(SEQ_MILLION, 'fuzz.conf', { configId: 'x' });
    expect(r.diagnostics).toEqual([]);
    expect(r.lines).toBe(1_000_000);
    expect(r.config.vrrpScripts).toHaveLength(1_000_000);
    expect(r.config.vrrpScripts[999_999].name).toBe('s1000000');
    const over = loadConfigText('~SEQ(i,1,1000001) vrrp_script s$i { script /bin/true }\n', 'fuzz.conf', { configId: 'x' });
    expect(over.diagnostics.map((d) => `${d.line}:${d.col} ${d.rule}: ${d.message}`)).toEqual([
      '1:19 expansion-limit: more than 1000000 lines after expansion; stopping here',
    ]);
  });
});
