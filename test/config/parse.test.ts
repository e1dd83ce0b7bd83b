import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../src/config/parse.js';
import type { Statement } from '../../src/config/syntax.js';

/** Compact view of a tree: keyword, args, children. */
function shape(sts: Statement[]): unknown[] {
  return sts.map((s) => (s.children ? [s.keyword, ...s.args.map((a) => a.text), shape(s.children)] : [s.keyword, ...s.args.map((a) => a.text)]));
}

const parse = (text: string, configId = 'lb1') => parseText(text, '/cfg/keepalived.conf', { configId });

describe('block structure', () => {
  it('splits lines at braces: same line, next line, several closers on one line', () => {
    const r = parse(
      'vrrp_instance VI_1 { state MASTER\n  track_script { chk }\n}\nvirtual_server 10.0.0.1 80\n{\n real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 3 } } }\n',
    );
    expect(shape(r.statements)).toEqual([
      [
        'vrrp_instance',
        'VI_1',
        [
          ['state', 'MASTER'],
          ['track_script', [['chk']]],
        ],
      ],
      ['virtual_server', '10.0.0.1', '80', [['real_server', '10.0.0.2', '80', [['TCP_CHECK', [['connect_timeout', '3']]]]]]],
    ]);
    expect(r.diagnostics.items).toEqual([]);
  });

  it('keeps positions of every word', () => {
    const r = parse('global_defs {\n    router_id  LVS_1\n}\n');
    const st = r.statements[0].children![0];
    expect([st.line, st.col, st.args[0].line, st.args[0].col]).toEqual([2, 5, 2, 16]);
  });

  it('reports a missing closing brace and still returns the tree', () => {
    const r = parse('vrrp_instance VI_1 {\n  priority 100\n');
    expect(shape(r.statements)).toEqual([['vrrp_instance', 'VI_1', [['priority', '100']]]]);
    expect(r.diagnostics.items.map((d) => [d.rule, d.line])).toEqual([['brace-missing', 1]]);
  });

  it("reports an extra '}' where it is and keeps it as a top-level line '}'", () => {
    const r = parse('global_defs {\n}\n}\nvrrp_script x {\n}\n');
    expect(r.diagnostics.items.map((d) => [d.rule, d.line, d.col])).toEqual([['brace-extra', 3, 1]]);
    expect(shape(r.statements)).toEqual([['global_defs', []], ['}'], ['vrrp_script', 'x', []]]);
  });

  it("drops a '{' with no keyword, together with its '}'", () => {
    const r = parse('{\n priority 1\n}\nglobal_defs {\n}\n');
    expect(r.diagnostics.items.map((d) => d.rule)).toEqual(['brace-orphan']);
    expect(shape(r.statements)).toEqual([
      ['priority', '1'],
      ['global_defs', []],
    ]);
  });
});

describe('words, quotes and comments', () => {
  it('strips # and ! comments but not inside quotes, and honours \\# escapes', () => {
    const r = parse('notify "/bin/echo # not a comment" ! comment\nauth_pass ab\\#cd # comment\n');
    expect(shape(r.statements)).toEqual([
      ['notify', '/bin/echo # not a comment'],
      ['auth_pass', 'ab#cd'],
    ]);
    expect(r.statements[0].args[0].quoted).toBe(true);
  });

  it('joins adjacent quoted and unquoted pieces into one word', () => {
    const r = parse(`script abcd" efg h "ij'k l'\n`);
    expect(shape(r.statements)).toEqual([['script', 'abcd efg h ijk l']]);
  });

  it('warns about an unterminated quote and keeps the rest of the line', () => {
    const r = parse('script "/bin/true arg\n');
    expect(shape(r.statements)).toEqual([['script', '/bin/true arg']]);
    expect(r.diagnostics.items.map((d) => d.rule)).toEqual(['quote-unterminated']);
  });

  it('keeps a trailing backslash as part of the line (no general continuation)', () => {
    const r = parse('priority \\\n  100\n');
    expect(shape(r.statements)).toEqual([['priority', '\\'], ['100']]);
  });
});

describe('definitions', () => {
  it('expands $NAME and ${NAME}, lazily and recursively', () => {
    const r = parse('$BASE=10.0.0\n$VIP=${BASE}.1\nvirtual_ipaddress {\n $VIP\n ${BASE}.2/24\n}\n$BASE=192.168.1\nx $VIP\n');
    expect(shape(r.statements)).toEqual([
      ['virtual_ipaddress', [['10.0.0.1'], ['10.0.0.2/24']]],
      ['x', '192.168.1.1'],
    ]);
  });

  it('leaves undefined names and $NAME not followed by a space as they are', () => {
    const r = parse('script "/bin/sh -c \'echo $HOME\'"\nx $NOPE/24\n');
    expect(shape(r.statements)).toEqual([
      ['script', "/bin/sh -c 'echo $HOME'"],
      ['x', '$NOPE/24'],
    ]);
  });

  it('supports multi-line definitions holding several lines of a block', () => {
    const r = parse('$VIPS= \\\n  10.0.0.1 \\\n  10.0.0.2\nvirtual_ipaddress {\n  $VIPS\n}\n');
    expect(shape(r.statements)).toEqual([['virtual_ipaddress', [['10.0.0.1'], ['10.0.0.2']]]]);
  });

  it('has the predefined names', () => {
    const r = parseText('a ${_INSTANCE}\nb ${_PWD}\nc ${_HASH}${_BANG}\nd ${_ENV KT_TEST_VAR}\ne ${_RANDOM 5 5}\n', '/etc/keepalived/k.conf', {
      configId: 'lb2',
      env: { KT_TEST_VAR: 'v1' },
    });
    expect(shape(r.statements)).toEqual([
      ['a', 'lb2'],
      ['b', '/etc/keepalived'],
      ['c', '#!'],
      ['d', 'v1'],
      ['e', '5'],
    ]);
  });

  it('stops a definition that uses itself instead of looping', () => {
    const r = parse('$A=x $A\ny $A\n');
    expect(r.diagnostics.items.some((d) => d.rule === 'definition-recursive')).toBe(true);
  });
});

describe('conditionals', () => {
  it('keeps @id lines for the config id and @^id lines for the others', () => {
    const text = '@lb1 priority 150\n@lb2 priority 100\n@^lb1 state BACKUP\n@^lb2 state MASTER\n';
    expect(shape(parse(text, 'lb1').statements)).toEqual([
      ['priority', '150'],
      ['state', 'MASTER'],
    ]);
    expect(shape(parse(text, 'lb2').statements)).toEqual([
      ['priority', '100'],
      ['state', 'BACKUP'],
    ]);
  });

  it('combines with definitions', () => {
    expect(shape(parse('@lb1 $PRIO=200\n@lb2 $PRIO=100\npriority $PRIO\n', 'lb2').statements)).toEqual([['priority', '100']]);
  });
});

describe('~SEQ and ~LST', () => {
  it('repeats the rest of the line for each value', () => {
    const r = parse('~SEQ(N, 1, 2, 5) real ${N}\n~SEQ(N, 3) a $N\n~SEQx(H, 9, 11) h ${H}\n');
    expect(shape(r.statements)).toEqual([
      ['real', '1'],
      ['real', '3'],
      ['real', '5'],
      ['a', '1'],
      ['a', '2'],
      ['a', '3'],
      ['h', '9'],
      ['h', 'a'],
      ['h', 'b'],
    ]);
  });

  it('nests several generators on one line, outer first', () => {
    const r = parse('~SEQ(A, 1, 2) ~SEQ(B, 1, 2) p ${A}.${B}\n');
    expect(shape(r.statements)).toEqual([
      ['p', '1.1'],
      ['p', '1.2'],
      ['p', '2.1'],
      ['p', '2.2'],
    ]);
  });

  it('zips ~LST tuples', () => {
    const r = parse('~LST({IP,PORT}, {10.0.0.1,80}, {10.0.0.2,8080}) real_server ${IP} ${PORT}\n~LST(X, a, b) x $X\n');
    expect(shape(r.statements)).toEqual([
      ['real_server', '10.0.0.1', '80'],
      ['real_server', '10.0.0.2', '8080'],
      ['x', 'a'],
      ['x', 'b'],
    ]);
  });

  it('reports malformed generators with a hint', () => {
    const r = parse('~SEQ(N, a, b) x\n~SEQ(N, 1, 0, 5) y\n');
    expect(r.diagnostics.items.map((d) => d.rule)).toEqual(['seq-syntax', 'seq-syntax']);
    expect(r.diagnostics.items[0].hint).toMatch(/~SEQ\(var/);
  });
});

describe('include', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-include-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'main.conf'), 'include conf.d/*.conf\ninclude missing/*.conf\nglobal_defs {\n}\n');
  writeFileSync(join(dir, 'conf.d', 'b.conf'), 'b 2\n');
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'a 1\ninclude ../loop.conf\n');
  writeFileSync(join(dir, 'conf.d', '.hidden.conf'), 'hidden 1\n');
  writeFileSync(join(dir, 'loop.conf'), 'loop 1\ninclude conf.d/a.conf\n');
  writeFileSync(join(dir, 'braces.conf'), 'include conf.d/{b,a}.conf\n');

  it('reads globs relative to the including file, sorted, skipping dotfiles, and stops cycles', () => {
    const r = parseFile(join(dir, 'main.conf'), { configId: 'x' });
    expect(shape(r.statements)).toEqual([
      ['a', '1'],
      ['loop', '1'],
      ['b', '2'],
      ['global_defs', []],
    ]);
    const d = r.diagnostics.items.map((x) => [x.rule, x.file.replace(dir, ''), x.line, x.exit]);
    expect(d).toEqual([
      ['include-cycle', '/loop.conf', 2, 5],
      ['include-missing', '/main.conf', 2, 0],
    ]);
    expect(r.files.map((f) => f.replace(dir, ''))).toEqual(['/main.conf', '/conf.d/a.conf', '/loop.conf', '/conf.d/b.conf']);
  });

  it('expands csh braces in the order written', () => {
    const r = parseFile(join(dir, 'braces.conf'), { configId: 'x' });
    expect(shape(r.statements).slice(0, 2)).toEqual([
      ['b', '2'],
      ['a', '1'],
    ]);
  });

  it('makes a missing include an exit-6 error with -e, like keepalived 2.2.7', () => {
    const r = parseFile(join(dir, 'main.conf'), { configId: 'x', allConfig: true });
    expect(r.diagnostics.items.find((x) => x.rule === 'include-missing')).toMatchObject({ severity: 'error', exit: 6 });
  });

  it('reports a missing main file (exit 4 only with -e)', () => {
    expect(parseFile(join(dir, 'nope.conf'), { configId: 'x' }).diagnostics.items).toMatchObject([{ rule: 'file-missing', exit: 0 }]);
    expect(parseFile(join(dir, 'nope.conf'), { configId: 'x', allConfig: true }).diagnostics.items).toMatchObject([{ rule: 'file-missing', exit: 4 }]);
  });
});
