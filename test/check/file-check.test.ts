// FILE_CHECK: the number in a track_file, read as keepalived reads it, and what it does to the
// real server (fault or weight).
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCheckWatch, fileVerdict } from '../../src/check/probe-file.js';
import { parseTrackValue } from '../../src/config/values.js';
import { load, vsConf } from './conf.js';

const dir = mkdtempSync(join(tmpdir(), 'kts-file-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('track file values (strtol base 0)', () => {
  it.each([
    ['0', 0],
    [' 12\n', 12],
    ['-5', -5],
    ['+7 extra', 7],
    ['0x1F', 31],
    ['010', 8],
    ['08', 0],
    ['0x', 0],
    ['abc', 0],
    ['', 0],
    ['2147483648', 2147483648],
    ['-2147483648', -2147483648],
  ])('%j reads as %d', (text, value) => expect(parseTrackValue(text)).toBe(value));

  it.each(['2147483649', '-2147483649', '99999999999999999999'])('%j is out of range and ignored', (text) => expect(parseTrackValue(text)).toBeUndefined());
});

describe('FILE_CHECK verdicts', () => {
  it('with weight 0, a non-zero value is a fault (with reverse, a zero value)', () => {
    expect(fileVerdict(0, 0, false)).toMatchObject({ ok: true, addWeight: 0 });
    expect(fileVerdict(3, 0, false)).toMatchObject({ ok: false, reason: 'value 3 is a fault' });
    expect(fileVerdict(0, 0, true)).toMatchObject({ ok: false, reason: 'value 0 is a fault (reverse)' });
    expect(fileVerdict(3, 0, true)).toMatchObject({ ok: true });
  });

  it('otherwise value × weight is added to the weight, and at or below -2^31 it is a fault', () => {
    expect(fileVerdict(5, 2, false)).toEqual({ ok: true, reason: 'value 5 adds 10 to the weight', addWeight: 10 });
    expect(fileVerdict(5, 2, true)).toMatchObject({ ok: true, addWeight: -10 });
    expect(fileVerdict(-2147483648, 1, false)).toMatchObject({ ok: false, addWeight: 0 });
    expect(fileVerdict(2147483648, 1, true)).toMatchObject({ ok: false });
    expect(fileVerdict(2147483648, 1, false)).toMatchObject({ ok: true, addWeight: 2147483647 });
  });
});

describe('FileCheckWatch', () => {
  /** The track_file and FILE_CHECK as the config loader builds them. */
  const watch = (file: string, trackWeight: string, checkWeight = '') => {
    const cfg = load(
      vsConf(['127.0.0.1:80'], `FILE_CHECK {\n      track_file t\n      ${checkWeight}\n    }`, `track_file t {\n  file ${file}\n  weight ${trackWeight}\n}`),
    );
    return cfg.resolved.virtualServers[0].realServers[0].checks[0].file!;
  };
  const watcher = (file: string, trackWeight: string, checkWeight = '') => {
    const w = watch(file, trackWeight, checkWeight);
    return new FileCheckWatch(w);
  };

  it('follows the file as it changes; no file reads as 0', () => {
    const f = join(dir, 'a');
    const w = watcher(f, '0');
    expect(w.read()).toMatchObject({ ok: true, reason: `FILE: ${f}: value 0` });
    writeFileSync(f, '1\n');
    expect(w.read()).toEqual({ ok: false, reason: `FILE: ${f}: value 1 is a fault`, addWeight: 0 });
    unlinkSync(f);
    expect(w.read()).toMatchObject({ ok: true });
  });

  it('keeps the last value when the file holds an out-of-range number', () => {
    const f = join(dir, 'b');
    writeFileSync(f, '4');
    const w = watcher(f, '3');
    expect(w.read()).toMatchObject({ ok: true, addWeight: 12 });
    writeFileSync(f, '99999999999');
    expect(w.read()).toEqual({ ok: true, reason: `FILE: ${f}: value 4 adds 12 to the weight; ignored invalid number "99999999999"`, addWeight: 12 });
  });

  it("takes the track_file's weight and reverse unless the FILE_CHECK sets its own", () => {
    const f = join(dir, 'c');
    writeFileSync(f, '2');
    expect(watcher(f, '5 reverse').read()).toMatchObject({ addWeight: -10 });
    expect(watcher(f, '5 reverse', 'weight 3').read()).toMatchObject({ addWeight: 6 });
  });
});
