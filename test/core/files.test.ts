// readBounded(): a file a user named, read only up to a limit, with the reason when it cannot be.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errnoText, readBounded, sizeText } from '../../src/core/files.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readBounded', () => {
  it('reads a text file whole', () => {
    writeFileSync(join(dir, 'a.conf'), 'global_defs {\n}\n');
    const r = readBounded(join(dir, 'a.conf'), 100);
    expect(r.ok && r.data.toString()).toBe('global_defs {\n}\n');
  });

  it('says why not: missing, a directory, binary, too large', () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]));
    writeFileSync(join(dir, 'big'), 'x'.repeat(101));
    expect(readBounded(join(dir, 'absent'), 100)).toEqual({ ok: false, kind: 'missing' });
    expect(readBounded(join(dir, 'd'), 100)).toEqual({ ok: false, kind: 'directory' });
    expect(readBounded(join(dir, 'bin'), 100)).toEqual({ ok: false, kind: 'binary' });
    expect(readBounded(join(dir, 'big'), 100)).toEqual({ ok: false, kind: 'too-large', limit: 100 });
    expect(readBounded(join(dir, 'bin', 'x'), 100)).toEqual({ ok: false, kind: 'unreadable', code: 'ENOTDIR' });
  });

  it('stops at the limit on a file without an end', () => {
    expect(readBounded('/dev/zero', 1 << 20)).toEqual({ ok: false, kind: 'too-large', limit: 1 << 20 });
  });

  it('words for sizes and errno codes', () => {
    expect([sizeText(16 << 20), sizeText(512 << 10), sizeText(100)]).toEqual(['16 MiB', '512 KiB', '100 bytes']);
    expect([errnoText('ENOENT'), errnoText('EWHATEVER')]).toEqual(['no such file or directory', 'EWHATEVER']);
  });
});
