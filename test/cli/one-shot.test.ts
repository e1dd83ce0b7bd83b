// -t and lint load from the one-shot bundle and its V8 code cache (src/cli/one-shot.ts): the
// build's cache is accepted, and a cache V8 refuses, or none, still gives the same answers.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Loads the commands through the loader at `loader` and config-tests `config` with them: how
 * they were loaded, and the exit code. */
function load(loader: string, config: string): { from: string; code: number } {
  const script = `import(${JSON.stringify(loader)}).then(async (m) => {
    const { commands, from } = await m.loadOneShot();
    const code = commands.configTest(new Map([['use-file', ${JSON.stringify(config)}], ['config-test', '/dev/null']]));
    process.stdout.write(JSON.stringify({ from, code }));
  })`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { from: string; code: number };
}

/** A copy of the built loader and bundle, with `cache` as its code cache (none when undefined). */
function copyWith(cache: Buffer | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-one-shot-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'cli'));
  copyFileSync(join(REPO_ROOT, 'dist/cli/one-shot.js'), join(dir, 'cli/one-shot.js'));
  copyFileSync(join(REPO_ROOT, 'dist/one-shot.cjs'), join(dir, 'one-shot.cjs'));
  if (cache) writeFileSync(join(dir, 'one-shot.cache'), cache);
  return join(dir, 'cli/one-shot.js');
}

describe('the one-shot bundle', () => {
  const broken = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-one-shot-conf-'));
    dirs.push(dir);
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 300\n  priority 100\n}\n');
    return file;
  })();

  it("loads with the build's code cache accepted", () => {
    const r = load(join(REPO_ROOT, 'dist/cli/one-shot.js'), broken);
    expect(r.from).toBe('cache');
    // virtual_router_id 300 is out of range: keepalived -t exits 1 on a config error.
    expect(r.code).not.toBe(0);
  });

  it('compiles afresh, with the same answer, when the cache is refused or missing', () => {
    const cached = load(join(REPO_ROOT, 'dist/cli/one-shot.js'), broken);
    const refused = load(copyWith(Buffer.from('not a V8 code cache')), broken);
    const missing = load(copyWith(undefined), broken);
    expect(refused).toEqual({ from: 'compiled', code: cached.code });
    expect(missing).toEqual({ from: 'compiled', code: cached.code });
  });

  it('is what the command line runs for -t', () => {
    // The bin answers as the bundle does (the exit code travels through main's promise).
    let code = 0;
    try {
      execFileSync(process.execPath, [join(REPO_ROOT, 'dist/keepalived-ts.mjs'), '-t', '-f', broken], { stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(load(join(REPO_ROOT, 'dist/cli/one-shot.js'), broken).code);
  });
});
