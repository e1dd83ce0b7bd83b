// The netns lab's readers of what its processes print, fed recorded lines: no root, no
// namespaces, no daemons.
import { describe, expect, it } from 'vitest';
import type { LabState } from '../../../src/lab/model/result.js';
import { KeepalivedLog, ourLineEpochMs, parseNotifyLog, parseRequestLine, priorityChange, readOurLine, serverChange } from '../../../src/lab/netns/logs.js';

describe('our daemon: pino JSON lines', () => {
  it('a transition carries its instance, state, priority and reason', () => {
    const line =
      '{"level":30,"time":1796531670123,"pid":42,"vrrp":"VI_1","state":"MASTER","priority":150,"reason":"no advert from lb1 for 3.61 s","msg":"(VI_1) Entering MASTER STATE"}';
    expect(readOurLine(line)).toEqual([{ kind: 'state', instance: 'VI_1', state: 'MASTER', priority: 150, reason: 'no advert from lb1 for 3.61 s' }]);
  });

  it('without a reason the message stands in for it', () => {
    const [e] = readOurLine('{"level":30,"vrrp":"VI_2","state":"BACKUP","msg":"(VI_2) Entering BACKUP STATE"}');
    expect(e).toEqual({ kind: 'state', instance: 'VI_2', state: 'BACKUP', priority: undefined, reason: '(VI_2) Entering BACKUP STATE' });
  });

  it('reads priority changes and real server changes from the message', () => {
    expect(readOurLine('{"level":30,"vrrp":"VI_1","msg":"(VI_1) Changing effective priority from 150 to 90"}')).toEqual([
      { kind: 'priority', instance: 'VI_1', priority: 90 },
    ]);
    expect(readOurLine('{"level":40,"msg":"Removing service [192.168.1.21]:80 from VS (TCP_CHECK: connection refused)"}')).toEqual([
      { kind: 'server', address: '192.168.1.21', port: 80, inService: false, reason: 'TCP_CHECK: connection refused' },
    ]);
  });

  it('ignores a state that is not a lab state, and lines that are not JSON', () => {
    expect(readOurLine('{"vrrp":"VI_1","state":"DELETED","msg":"x"}')).toEqual([]);
    // A stop is the process's exit (and its priority 0 on the wire), as for keepalived: an INIT
    // line (older daemons logged one at the stop) is not a state change.
    expect(readOurLine('{"vrrp":"VI_1","state":"INIT","priority":100,"msg":"(VI_1) Entering INIT STATE"}')).toEqual([]);
    expect(readOurLine('keepalived-ts: warning: something on stderr')).toEqual([]);
    expect(readOurLine('')).toEqual([]);
  });
});

describe("our daemon's own stamp", () => {
  it("reads pino's time (epoch ms) from the head of a line, and nothing from another line", () => {
    expect(ourLineEpochMs('{"level":30,"time":1796626919017,"pid":7,"vrrp":"VI_1","state":"MASTER","msg":"(VI_1) Entering MASTER STATE"}')).toBe(1796626919017);
    expect(ourLineEpochMs('Sun Dec  6 21:51:41 2026: (VI_1) Entering MASTER STATE')).toBeUndefined();
    expect(ourLineEpochMs('{"msg":"x","time":5}')).toBeUndefined();
  });
});

describe("keepalived's console lines", () => {
  const states = new Map<string, LabState>();
  const stateOf = (i: string): LabState => states.get(i) ?? 'INIT';

  it('the first state of an instance is from start-up; the stamp in front is dropped', () => {
    const log = new KeepalivedLog();
    expect(log.read({ text: 'Sun Dec  6 04:14:30 2026: (VI_1) Entering BACKUP STATE (init)', mono: 100 }, stateOf)).toEqual([
      { kind: 'state', instance: 'VI_1', state: 'BACKUP', reason: 'start-up' },
    ]);
  });

  it("later, the reason is the instance's last line, or a more recent general one within 1 s", () => {
    const log = new KeepalivedLog();
    states.set('VI_1', 'BACKUP');
    log.read({ text: 'Sun Dec  6 04:14:38 2026: (VI_1) Receive advertisement timeout', mono: 8000 }, stateOf);
    expect(log.read({ text: 'Sun Dec  6 04:14:38 2026: (VI_1) Entering MASTER STATE', mono: 8001 }, stateOf)).toEqual([
      { kind: 'state', instance: 'VI_1', state: 'MASTER', reason: 'Receive advertisement timeout' },
    ]);
    // The instance's line was used up by that transition: a general line now speaks for the next.
    log.read({ text: 'Sun Dec  6 04:14:40 2026: Netlink reports eth0 down', mono: 10_000 }, stateOf);
    expect(log.read({ text: 'Sun Dec  6 04:14:40 2026: (VI_1) Entering FAULT STATE', mono: 10_500 }, stateOf)[0]).toMatchObject({
      state: 'FAULT',
      reason: 'Netlink reports eth0 down',
    });
    // A general line older than 1 s is not a reason.
    log.read({ text: 'Sun Dec  6 04:14:41 2026: Netlink reports eth0 up', mono: 11_000 }, stateOf);
    expect(log.read({ text: 'Sun Dec  6 04:14:42 2026: (VI_1) Entering BACKUP STATE', mono: 12_500 }, stateOf)[0]).toMatchObject({
      state: 'BACKUP',
      reason: '',
    });
    states.clear();
  });

  it('reads priority changes and both kinds of server line', () => {
    const log = new KeepalivedLog();
    expect(log.read({ text: 'Sun Dec  6 04:14:46 2026: (VI_1) Changing effective priority from 150 to 90', mono: 1 }, stateOf)).toEqual([
      { kind: 'priority', instance: 'VI_1', priority: 90 },
    ]);
    expect(log.read({ text: 'Sun Dec  6 04:14:47 2026: Adding service [192.168.1.22]:tcp:80 to VS [192.168.1.100]:tcp:80', mono: 2 }, stateOf)).toEqual([
      { kind: 'server', address: '192.168.1.22', port: 80, inService: true, reason: 'Adding service [192.168.1.22]:tcp:80 to VS [192.168.1.100]:tcp:80' },
    ]);
  });
});

describe('the lines both daemons share', () => {
  it('priority: only the "Changing effective priority" wording', () => {
    expect(priorityChange('(VI_3) Changing effective priority from 100 to 120')).toEqual({ kind: 'priority', instance: 'VI_3', priority: 120 });
    expect(priorityChange('(VI_3) Effective priority is 120')).toBeUndefined();
  });

  it('servers: address, port with or without tcp:/udp:, and the reason in brackets', () => {
    expect(serverChange('Adding service [10.0.0.5]:udp:53 to VS [10.0.0.1]:udp:53 (MISC_CHECK succeeded)')).toMatchObject({
      address: '10.0.0.5',
      port: 53,
      inService: true,
      reason: 'MISC_CHECK succeeded',
    });
    expect(serverChange('TCP connection to [10.0.0.5]:tcp:80 success.')).toBeUndefined();
  });
});

describe('notify.log', () => {
  it('reads "UPTIME TYPE NAME STATE PRIORITY" lines and skips anything else', () => {
    const text = ['12345.67 INSTANCE VI_1 BACKUP 100', 'garbage', '12349.02 GROUP G1 MASTER 0', '12350 INSTANCE VI_1 FAULT 100  ', ''].join('\n');
    expect(parseNotifyLog(text)).toEqual([
      { uptimeMs: 12345.67 * 1000, kind: 'INSTANCE', name: 'VI_1', state: 'BACKUP', priority: 100 },
      { uptimeMs: 12349.02 * 1000, kind: 'GROUP', name: 'G1', state: 'MASTER', priority: 0 },
      { uptimeMs: 12350_000, kind: 'INSTANCE', name: 'VI_1', state: 'FAULT', priority: 100 },
    ]);
  });
});

describe("the lab client's request lines", () => {
  it('one JSON object per request, anything else ignored', () => {
    expect(parseRequestLine('{"ms":3.2,"ok":true,"body":"web1"}')).toEqual({ ms: 3.2, ok: true, body: 'web1' });
    expect(parseRequestLine('{"ms":800.4,"ok":false,"error":"no answer within 800 ms"}')).toEqual({ ms: 800.4, ok: false, error: 'no answer within 800 ms' });
    expect(parseRequestLine('node: warning')).toBeUndefined();
  });
});
