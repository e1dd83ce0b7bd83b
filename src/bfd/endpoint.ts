// The BFD sessions of a configuration on real UDP sockets (RFC 5881, single hop): the imperative
// shell around machine.ts. Per local address, one socket receives on port 3784 and one sends from
// a port in 49152-65535 with TTL 255. Packets find their session by Your Discriminator, or by the
// sender's address while the neighbour has not learnt ours. What cannot be decoded or matched is
// counted and dropped.
//
// Not checked: the received TTL (RFC 5881's GTSM rule, keepalived's max_hops). Node's dgram
// sockets cannot read it; the sessions are found by address and discriminator alone.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { BfdSessions } from './sessions.js';
import type { BfdInstance } from '../config/model/index.js';
import { initialSession, nextDeadline, stepSession, type SessionConfig, type SessionEvent, type SessionState } from './machine.js';
import { BFD_PORT, BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN, DIAG_TEXT, decodeControl, encodeControl, type BfdDropReason, type BfdState } from './packet.js';

export interface BfdChange {
  name: string;
  from: BfdState;
  to: BfdState;
  diag: number;
  reason: string;
}

export interface BfdEndpointOptions {
  clock: Clock;
  random: () => number;
  onChange?(change: BfdChange): void;
  log?(level: 'info' | 'warn', message: string): void;
}

interface Session {
  cfg: SessionConfig;
  inst: BfdInstance;
  state: SessionState;
  local: LocalAddress;
  timer?: TimerHandle;
}

interface LocalAddress {
  address: string;
  rx?: Socket;
  tx?: Socket;
}

const MS = 1000;

export class BfdEndpoint implements BfdSessions {
  private readonly sessions: Session[] = [];
  private readonly byDiscriminator = new Map<number, Session>();
  private readonly locals = new Map<string, LocalAddress>();
  private stopped = false;
  private readonly watchers = new Set<(name: string, up: boolean, reason: string) => void>();
  /** Sends not yet handed to the kernel: a stop lets them leave before closing the sockets. */
  private readonly sending = new Set<Promise<void>>();
  /** Packets dropped, by reason (codec checks, and 'no-session'). */
  readonly drops: Partial<Record<BfdDropReason | 'no-session', number>> = {};

  constructor(
    instances: readonly BfdInstance[],
    private readonly opts: BfdEndpointOptions,
  ) {
    for (const inst of instances) {
      if (!inst.neighborIp) continue;
      const family = isIP(inst.neighborIp);
      const address = inst.sourceIp ?? (family === 6 ? '::' : '0.0.0.0');
      let local = this.locals.get(address);
      if (!local) this.locals.set(address, (local = { address }));
      const cfg: SessionConfig = {
        name: inst.name,
        localDiscriminator: this.newDiscriminator(),
        minTxUs: Math.round(inst.minTx * MS),
        idleTxUs: Math.round(inst.idleTx * MS),
        minRxUs: Math.round(inst.minRx * MS),
        multiplier: inst.multiplier,
        passive: inst.passive,
      };
      const s: Session = { cfg, inst, state: initialSession(), local };
      this.sessions.push(s);
      this.byDiscriminator.set(cfg.localDiscriminator, s);
    }
  }

  /** The session's state (undefined for an instance without a running session). */
  state(name: string): BfdState | undefined {
    return this.sessions.find((s) => s.inst.name === name)?.state.state;
  }

  isUp(name: string): boolean | undefined {
    const st = this.state(name);
    return st === undefined ? undefined : st === 'Up';
  }

  watch(cb: (name: string, up: boolean, reason: string) => void): () => void {
    this.watchers.add(cb);
    return () => this.watchers.delete(cb);
  }

  /**
   * The sessions one side may follow: a bfd_instance marked `vrrp` only (or `checker` only) is
   * hidden from the other side, as keepalived sends its events only there.
   */
  viewFor(side: 'vrrp' | 'checker'): BfdSessions {
    const visible = new Set(
      this.sessions.filter((s) => (side === 'vrrp' ? s.inst.vrrp || !s.inst.checker : s.inst.checker || !s.inst.vrrp)).map((s) => s.inst.name),
    );
    return {
      isUp: (name) => (visible.has(name) ? this.isUp(name) : undefined),
      watch: (cb) => this.watch((name, up, reason) => visible.has(name) && cb(name, up, reason)),
    };
  }

  async start(): Promise<void> {
    for (const local of this.locals.values()) {
      local.rx = await this.bind(local.address, BFD_PORT);
      local.rx.on('message', (msg, rinfo) => this.receive(local, msg, rinfo.address));
      local.tx = await this.bindSourcePort(local.address);
      local.tx.setTTL(255);
    }
    for (const s of this.sessions) this.apply(s, { type: 'start', now: this.opts.clock.now(), rand: this.opts.random() });
  }

  /** Silence, then close the sockets: the neighbours' detection times tell them (as keepalived). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const s of this.sessions) this.apply(s, { type: 'stop', now: this.opts.clock.now() });
    this.stopped = true;
    for (const s of this.sessions) if (s.timer) this.opts.clock.clearTimer(s.timer);
    // Closing a socket drops what it has not sent yet: let the last packets go first.
    await Promise.all(this.sending);
    await Promise.all(
      [...this.locals.values()].flatMap((l) => [l.rx, l.tx].filter((x): x is Socket => !!x).map((sock) => new Promise<void>((r) => sock.close(() => r())))),
    );
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = Math.floor(this.opts.random() * 0xffffffff) + 1;
      if (!this.byDiscriminator.has(d)) return d >>> 0;
    }
  }

  private bind(address: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
      sock.once('error', reject);
      sock.bind(port, address, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.opts.log?.('warn', `BFD socket ${address}:${port}: ${e.message}`));
        resolve(sock);
      });
    });
  }

  /** RFC 5881 section 4: a source port from 49152-65535 (tried at random, then in turn). */
  private async bindSourcePort(address: string): Promise<Socket> {
    const span = BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1;
    const first = Math.floor(this.opts.random() * span);
    for (let i = 0; i < span; i++) {
      try {
        return await this.bind(address, BFD_SOURCE_PORT_MIN + ((first + i) % span));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
    throw new Error(`BFD: no free source port in ${BFD_SOURCE_PORT_MIN}-${BFD_SOURCE_PORT_MAX} on ${address}`);
  }

  private receive(local: LocalAddress, msg: Buffer, from: string): void {
    if (this.stopped) return;
    const p = decodeControl(msg);
    if ('drop' in p) return this.drop(p.drop);
    const s = p.yourDiscriminator
      ? this.byDiscriminator.get(p.yourDiscriminator)
      : this.sessions.find((x) => x.local === local && sameAddress(x.inst.neighborIp!, from));
    // A discriminator that is ours but arrives from another neighbour is not this session's.
    if (!s || !sameAddress(s.inst.neighborIp!, from)) return this.drop('no-session');
    this.apply(s, { type: 'packet', now: this.opts.clock.now(), rand: this.opts.random(), packet: p });
  }

  private drop(reason: BfdDropReason | 'no-session'): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  private apply(s: Session, ev: SessionEvent): void {
    const r = stepSession(s.cfg, s.state, ev);
    s.state = r.state;
    for (const a of r.actions) {
      if (a.type === 'send') {
        const tx = s.local.tx;
        if (!tx) continue;
        const sent = new Promise<void>((r) => tx.send(encodeControl(a.packet), BFD_PORT, s.inst.neighborIp, () => r()));
        this.sending.add(sent);
        void sent.then(() => this.sending.delete(sent));
      } else {
        // keepalived's lines: "(NAME) Entering Up state", and for Down both sides' diagnostics.
        const why =
          a.to === 'Down'
            ? ` (Local diagnostic - ${DIAG_TEXT[a.diag] ?? a.diag}, Remote diagnostic - ${DIAG_TEXT[s.state.remoteDiag] ?? s.state.remoteDiag})`
            : '';
        this.opts.log?.(a.to === 'Up' ? 'info' : 'warn', `(${s.inst.name}) Entering ${a.to} state${why}`);
        this.opts.onChange?.({ name: s.inst.name, from: a.from, to: a.to, diag: a.diag, reason: a.reason });
        // Trackers hear of Up and of leaving Up, but not of a neighbour's AdminDown: that is no
        // failure of the path (RFC 5882 3.2; keepalived sends no event for it either).
        const adminDown = a.to === 'Down' && s.state.remoteState === 'AdminDown';
        if ((a.from === 'Up') !== (a.to === 'Up') && !adminDown && a.to !== 'AdminDown') for (const w of this.watchers) w(s.inst.name, a.to === 'Up', a.reason);
      }
    }
    this.arm(s);
  }

  private arm(s: Session): void {
    if (s.timer) this.opts.clock.clearTimer(s.timer);
    s.timer = undefined;
    const at = nextDeadline(s.state);
    if (at === undefined || this.stopped) return;
    s.timer = this.opts.clock.setTimer(at, () => {
      s.timer = undefined;
      this.apply(s, { type: 'timer', now: this.opts.clock.now(), rand: this.opts.random() });
    });
  }
}

const sameAddress = (a: string, b: string): boolean => a === b || a === b.replace(/^::ffff:/, '');
