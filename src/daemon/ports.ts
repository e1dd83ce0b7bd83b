// The daemon's VRRP sockets: one raw socket per interface and address family for its lifetime,
// pointed at each configuration's engine in turn, with an AH socket beside the IPv4 one while an
// instance uses it.
import type pino from 'pino';
import { networkInterfaces } from 'node:os';
import { createRawTransport, type RawTransport } from '../net/raw-transport.js';
import { IPPROTO_AH } from '../vrrp/ah.js';
import type { Port } from '../vrrp/engine.js';
import type { Received } from '../vrrp/instance.js';
import { realHost } from '../config/resolve-host.js';

type Logger = pino.Logger;

/** `ah`: the interface's second IPv4 socket, IP protocol 51, open while an instance on it uses auth_type AH. */
type PortEntry = { transport?: RawTransport; ah?: RawTransport; handler?: (p: Received) => void };
type Family = 4 | 6;
/** A port's key: `ifname/family`. */
export const portKey = (ifname: string, family: Family): string => `${ifname}/${family}`;
const splitKey = (key: string): [string, Family] => {
  const at = key.lastIndexOf('/');
  return [key.slice(0, at), key.slice(at + 1) === '6' ? 6 : 4];
};

/** One socket per interface and address family for the daemon's lifetime; a reload points it at the new engine.
 * With dynamic_interfaces an interface may be missing: its port waits, sends nothing, and its
 * socket opens once the interface is there (ready()). */
export class Ports {
  private readonly open = new Map<string, PortEntry>();
  /** Port keys (IPv4) with an auth_type AH instance (as of the last prepare()). */
  private ahKeys = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Opens the sockets of the interfaces not open yet; on a failure closes the ones it opened and
   * returns why, so a refused reload leaves nothing behind. Otherwise returns the ones it opened,
   * for release() should the reload be refused later. */
  prepare(keys: Iterable<string>, ahKeys: ReadonlySet<string> = new Set()): { error: string } | { opened: string[] } {
    const opened: string[] = [];
    this.ahKeys = new Set([...this.ahKeys, ...ahKeys]);
    try {
      for (const key of keys) {
        const entry = this.open.get(key);
        if (entry?.transport && ahKeys.has(key) && !entry.ah) {
          entry.ah = this.openAh(key, entry);
          opened.push(`ah:${key}`);
        }
        if (entry?.transport) continue;
        this.openPort(key);
        opened.push(key);
      }
    } catch (e) {
      this.release(opened);
      return { error: (e as Error).message };
    }
    return { opened };
  }

  /** Closes sockets prepare() opened, for a reload refused after it. */
  release(keys: readonly string[]): void {
    for (const key of keys) {
      if (key.startsWith('ah:')) {
        const entry = this.open.get(key.slice(3));
        entry?.ah?.close();
        if (entry) entry.ah = undefined;
        continue;
      }
      const entry = this.open.get(key);
      entry?.ah?.close();
      if (entry) entry.ah = undefined;
      entry?.transport?.close();
      if (entry?.handler) entry.transport = undefined;
      else this.open.delete(key);
    }
  }

  private openPort(key: string): PortEntry {
    const [ifname, family] = splitKey(key);
    const entry = this.open.get(key) ?? {};
    const transport = createRawTransport({ ifname, family, onError: (err) => this.log.warn({ ifname }, err.message) });
    transport.onPacket((p) => entry.handler?.(p));
    entry.transport = transport;
    this.open.set(key, entry);
    if (this.ahKeys.has(key)) {
      try {
        entry.ah = this.openAh(key, entry);
      } catch (e) {
        transport.close();
        entry.transport = undefined;
        throw e;
      }
    }
    return entry;
  }

  private openAh(key: string, entry: PortEntry): RawTransport {
    const [ifname] = splitKey(key);
    const ah = createRawTransport({ ifname, family: 4, protocol: IPPROTO_AH, onError: (err) => this.log.warn({ ifname }, err.message) });
    ah.onPacket((p) => entry.handler?.(p));
    return ah;
  }

  /** A port waits for its interface (dynamic_interfaces). */
  waiting(ifname: string): boolean {
    return [4, 6].some((f) => {
      const entry = this.open.get(portKey(ifname, f as Family));
      return !!entry && !entry.transport;
    });
  }

  /** Whether the interface's sockets are open; a waiting one is opened if its interface is there now. */
  ready(ifname: string): boolean {
    let ok = true;
    for (const family of [4, 6] as const) {
      const key = portKey(ifname, family);
      const entry = this.open.get(key);
      if (!entry || entry.transport) continue;
      // There, and with an address to send adverts from (IPv6: a link-local one).
      if (!networkInterfaces()[ifname]?.some((a) => (family === 4 ? a.family === 'IPv4' : a.family === 'IPv6' && a.address.startsWith('fe80')))) {
        ok = false;
        continue;
      }
      try {
        this.openPort(key);
        this.log.info(`Interface ${ifname} appeared: its VRRP socket is open`);
      } catch (e) {
        this.log.warn(`Interface ${ifname}: ${(e as Error).message}`);
        ok = false;
      }
    }
    return ok;
  }

  get(ifname: string, family: Family): Port {
    const key = portKey(ifname, family);
    let entry = this.open.get(key);
    if (!entry) {
      entry = {};
      this.open.set(key, entry);
      if (realHost.interfaceExists(ifname)) this.openPort(key);
    }
    const e = entry;
    return {
      send: (payload, opts) => (opts.protocol === IPPROTO_AH ? e.ah : e.transport)?.send(payload, opts),
      onPacket: (cb) => {
        e.handler = cb;
      },
    };
  }

  /** Opens an interface's sockets again, keeping their handlers: a VMAC made again has a new
   * index, and SO_BINDTODEVICE holds the old one. A waiting one (a VMAC made late) opens. */
  reopen(ifname: string): void {
    for (const family of [4, 6] as const) {
      const key = portKey(ifname, family);
      const entry = this.open.get(key);
      if (!entry) continue;
      entry.ah?.close();
      entry.ah = undefined;
      entry.transport?.close();
      entry.transport = undefined;
      try {
        this.openPort(key);
      } catch (e) {
        // It waits, as for a missing interface, and opens when ready() finds it.
        this.log.warn(`Interface ${ifname}: ${(e as Error).message}`);
      }
    }
  }

  /** Closes the sockets of an interface that is gone for good (a VMAC a reload removed). */
  forget(ifname: string): void {
    for (const family of [4, 6] as const) {
      const entry = this.open.get(portKey(ifname, family));
      entry?.ah?.close();
      entry?.transport?.close();
      this.open.delete(portKey(ifname, family));
    }
  }

  /** The open sockets' counters, by interface (SIGUSR2's dump). */
  stats(): { ifname: string; stats: RawTransport['stats'] }[] {
    return [...this.open].flatMap(([key, e]) => {
      const ifname = splitKey(key)[1] === 6 ? key : splitKey(key)[0];
      return [...(e.transport ? [{ ifname, stats: e.transport.stats }] : []), ...(e.ah ? [{ ifname: `${ifname} (AH)`, stats: e.ah.stats }] : [])];
    });
  }

  /** Closes every socket once what it still holds is sent: at a stop, the priority-0 adverts.
   * A socket that cannot send (a stuck interface) holds the stop up for at most DRAIN_MS. */
  async close(): Promise<void> {
    const transports = [...this.open.values()].flatMap((e) => [e.transport, e.ah].filter((t): t is RawTransport => !!t));
    await Promise.all(transports.map((t) => t.drain(DRAIN_MS)));
    for (const t of transports) t.close();
  }
}

const DRAIN_MS = 500;

export type PrimaryAddress = (ifname: string, family: 4 | 6) => string;
