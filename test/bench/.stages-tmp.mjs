import { readFileSync } from 'node:fs';
const B = process.argv[2];
const { ConfigReader } = await import('/work/main/dist/config/reader.js');
const { Diagnostics } = await import('/work/main/dist/config/diagnostics.js');
const { tokenize } = await import('/work/main/dist/config/tokens.js');
const nearley = (await import('/work/main/node_modules/nearley/lib/nearley.js')).default;
const grammar = (await import('/work/main/dist/config/grammar.generated.js')).default;
const { TokenStream } = await import('/work/main/dist/config/syntax.js');
const { Builder, makeContext } = await import('/work/main/dist/config/builder.js');
const { rootBlock } = await import('/work/main/dist/config/keywords/root.js');
const { resolveConfig } = await import('/work/main/dist/config/resolve.js');
const { runLint } = await import('/work/main/dist/lint/rules.js');
const compiled = nearley.Grammar.fromCompiled(grammar);
for (let round = 0; round < 4; round++) {
  const t = [performance.now()];
  const d = new Diagnostics();
  const r = new ConfigReader({ configId: 'x' }, d); r.readFile(B); t.push(performance.now());
  const toks = tokenize(r.lines, d); t.push(performance.now());
  const p = new nearley.Parser(compiled, { lexer: new TokenStream() }); p.feed(toks); const st = p.results[0]; t.push(performance.now());
  const ctx = makeContext(d); const cfg = new Builder(rootBlock, ctx).buildRoot(st, { file: B, line: 1, col: 1 }); t.push(performance.now());
  resolveConfig(cfg, ctx); t.push(performance.now());
  runLint(cfg); t.push(performance.now());
  const names = ['read', 'tokenize', 'nearley', 'build', 'resolve', 'lint'];
  console.log(`round ${round}: ` + names.map((n, i) => `${n} ${(t[i + 1] - t[i]).toFixed(1)}`).join('  ') + `  tokens ${toks.length} lines ${r.lines.length}`);
}
