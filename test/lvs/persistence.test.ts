// Persistence templates and the VirtualService that ties list order, scheduler and templates.
import { describe, expect, it } from 'vitest';
import { Dest } from '../../src/lvs/dest.js';
import { parseGranularity, PersistenceTable } from '../../src/lvs/persistence.js';
import { VirtualService } from '../../src/lvs/service.js';
import { dests } from './helpers.js';

const S = 1_000_000;
const conn = (src: string) => ({ src, srcPort: 40000, dst: '198.51.100.1', dstPort: 80 });

describe('granularity', () => {
  it('parses netmasks and prefix lengths', () => {
    expect(parseGranularity(undefined)).toEqual({ v4: 32, v6: 128 });
    expect(parseGranularity('255.255.255.0')).toEqual({ v4: 24, v6: 128 });
    expect(parseGranularity('64')).toEqual({ v4: 32, v6: 64 });
    expect(parseGranularity('/16')).toEqual({ v4: 16, v6: 16 });
    expect(() => parseGranularity('255.0.255.0')).toThrow(/contiguous/);
    expect(() => parseGranularity('129')).toThrow(RangeError);
  });

  it('masks the client address', () => {
    expect(new PersistenceTable({ timeout: 1, granularity: '255.255.255.0' }).clientKey('192.0.2.77')).toBe('192.0.2.0');
    expect(new PersistenceTable({ timeout: 1 }).clientKey('192.0.2.77')).toBe('192.0.2.77');
    expect(new PersistenceTable({ timeout: 1, granularity: '48' }).clientKey('2001:db8:1:2:3::9')).toBe('2001:db8:1::');
    expect(new PersistenceTable({ timeout: 1, granularity: '0.0.0.0' }).clientKey('192.0.2.77')).toBe('0.0.0.0');
  });
});

describe('persistence templates', () => {
  const rrService = (granularity?: string, expireQuiescent?: boolean) => {
    const svc = new VirtualService({ scheduler: 'rr', persistence: { timeout: 300, granularity, expireQuiescent } });
    svc.setDests(dests([1, 1, 1]));
    return svc;
  };

  it('sends a client (masked) to the same destination while rr moves on for others', () => {
    const svc = rrService('255.255.255.0');
    expect(svc.schedule(conn('192.0.2.1'), 0)?.dest.id).toBe('A');
    expect(svc.schedule(conn('192.0.2.200'), S)?.dest.id).toBe('A'); // same /24
    expect(svc.schedule(conn('192.0.3.1'), S)?.dest.id).toBe('B');
    expect(svc.schedule(conn('192.0.2.9'), 2 * S)?.dest.id).toBe('A');
    expect(svc.dests[0].persistConns).toBe(1);
    expect(svc.persistence!.size).toBe(2);
  });

  it('expires timeout after the last use, each use re-arming it', () => {
    const svc = rrService();
    svc.schedule(conn('192.0.2.1'), 0); // A
    svc.schedule(conn('192.0.2.2'), 0); // B
    expect(svc.schedule(conn('192.0.2.1'), 299 * S)?.dest.id).toBe('A'); // re-armed to 599 s
    expect(svc.schedule(conn('192.0.2.1'), 598 * S)?.dest.id).toBe('A'); // re-armed to 898 s
    expect(svc.schedule(conn('192.0.2.1'), 898 * S)?.dest.id).toBe('C'); // expired: scheduled afresh
    expect(svc.dests[0].persistConns).toBe(0);
    expect(svc.persistence!.expire(898 * S)).toBe(1); // B's template (expired at 300 s)
    expect(svc.dests[1].persistConns).toBe(0);
  });

  it('lives while it controls connections, then ends at the next timer expiry', () => {
    const svc = rrService();
    const p = svc.persistence!;
    const t = svc.schedule(conn('192.0.2.1'), 0)!.template!;
    p.hold(t);
    expect(p.expire(1000 * S)).toBe(0);
    expect(svc.schedule(conn('192.0.2.1'), 1000 * S)?.dest.id).toBe('A'); // re-armed to 1300 s
    p.release(t, 1400 * S); // timer fires at 1300 s (held: re-armed), 1600 s: gone
    expect(p.nextDeadline()).toBe(1600 * S);
    expect(p.expire(1599 * S)).toBe(0);
    expect(p.expire(1600 * S)).toBe(1);
    expect(svc.dests[0].persistConns).toBe(0);
  });

  it('drops the template when its destination gets weight 0 or leaves, and schedules afresh', () => {
    const svc = rrService();
    const [a, b] = svc.dests;
    expect(svc.schedule(conn('192.0.2.1'), 0)?.dest).toBe(a);
    a.edit({ weight: 0 });
    expect(svc.schedule(conn('192.0.2.1'), S)?.dest).toBe(b);
    expect(a.persistConns).toBe(0);
    svc.removeDest(b);
    expect(svc.schedule(conn('192.0.2.1'), 2 * S)?.dest.id).toBe('C');
    expect(b.persistConns).toBe(0);
  });

  it('keeps a quiesced destination with expireQuiescent off (the kernel default), and an overloaded one always', () => {
    const svc = rrService(undefined, false);
    const a = svc.dests[0];
    svc.schedule(conn('192.0.2.1'), 0);
    a.edit({ weight: 0 });
    expect(svc.schedule(conn('192.0.2.1'), S)?.dest).toBe(a);
    a.edit({ weight: 1, uThreshold: 1 });
    a.bindConn();
    expect(a.overloaded).toBe(true);
    expect(svc.schedule(conn('192.0.2.1'), 2 * S)?.dest).toBe(a);
  });

  it('creates no template when nothing is available', () => {
    const svc = new VirtualService({ scheduler: 'wlc', persistence: { timeout: 60 } });
    svc.setDests(dests([0]));
    expect(svc.schedule(conn('192.0.2.1'), 0)).toBeUndefined();
    expect(svc.persistence!.size).toBe(0);
  });
});

describe('VirtualService', () => {
  it('links new destinations at the head, as IPVS does, so the newest wins ties', () => {
    const svc = new VirtualService(); // wlc
    const a = new Dest({ address: '10.0.0.1', port: 80, id: 'A' });
    const b = new Dest({ address: '10.0.0.2', port: 80, id: 'B' });
    svc.addDest(a);
    svc.addDest(b);
    expect(svc.dests.map((d) => d.id)).toEqual(['B', 'A']);
    expect(svc.schedule(conn('192.0.2.1'), 0)?.dest).toBe(b);
    expect(() => svc.addDest(a)).toThrow(/already/);
    svc.removeDest(b);
    expect(svc.schedule(conn('192.0.2.1'), 0)?.dest).toBe(a);
  });
});
