// The daemon's environment switches: a value it does not know is refused at start with one line,
// not taken for the default.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { forwarderIo } from '../../src/daemon/daemon.js';
import { daemonDir } from './harness.js';

const h = daemonDir('kt-env-');

describe('KEEPALIVED_TS_FORWARDER_IO', () => {
  it('takes handles, streams, or nothing', () => {
    expect(forwarderIo(undefined)).toBeUndefined();
    expect(forwarderIo('')).toBeUndefined();
    expect(forwarderIo('handles')).toBe('handles');
    expect(forwarderIo('streams')).toBe('streams');
    expect(forwarderIo('stream')).toEqual({ error: expect.stringMatching(/unknown value 'stream' \(write handles or streams, or unset it\)/) as unknown });
  });

  it('an unknown value refuses the start with one line and status 1, leaving no pid file', () => {
    const r = h.runOnce('io', [], { ...h.env, KEEPALIVED_TS_FORWARDER_IO: 'socket\x1b[2J' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "keepalived-ts: KEEPALIVED_TS_FORWARDER_IO: unknown value 'socket\\x1b[2J' (write handles or streams, or unset it); not starting",
    ]);
    expect(r.stdout).not.toMatch(/^\s+at /m);
    expect(existsSync(h.pidPath('io'))).toBe(false);
  }, 20_000);
});
