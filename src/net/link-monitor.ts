// keepalived follows the kernel's netlink link and address events; here one long-lived
// `ip -o monitor link address` per daemon carries them (no netlink binding: the npm `netlink`
// addon measured 5.3 ms p50 against ip monitor's 5.7 ms, and would add a native build).
//
// An event only says which interface to look at: the subscribers re-read its real state, so a
// missed or garbled line cannot leave a wrong one. Lines that name no interface are counted and
// ignored; an overlong one (something was lost) has every interface re-read. When the child
// cannot start or dies, the subscribers hear it (they poll quickly until it is back) and it is
// restarted after a backoff that doubles up to RESTART_MAX_MS.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LineReader, spawnLongLived } from './ip-child.js';

export interface MonitorLine {
  ifindex: number;
  ifname: string;
  kind: 'link' | 'address';
  deleted: boolean;
}

/**
 * One `ip -o monitor link address` line: `[Deleted ]N: NAME[@PEER]: <FLAGS> …` for a link,
 * `[Deleted ]N: NAME    inet[6] …` for an address. Anything else is undefined.
 * (Interface names hold no blank, ':' or '/'; ip adds `@PEER` to links with a peer.)
 */
export function parseMonitorLine(line: string): MonitorLine | undefined {
  const m = /^(Deleted )?(\d+): ([^\s:/@]+)(?:@[^\s:/]+)?(:)? +(\S+)/.exec(line);
  if (!m) return undefined;
  const link = m[4] === ':' && m[5].startsWith('<');
  const address = !m[4] && /^inet6?$/.test(m[5]);
  if (!link && !address) return undefined;
  return { ifindex: Number(m[2]), ifname: m[3], kind: link ? 'link' : 'address', deleted: !!m[1] };
}

/** What a subscriber hears: an interface to re-read, or `undefined` for all of them (the monitor
 * stopped or started, or a line was lost). */
export type LinkChanged = (ifname?: string) => void;

export interface LinkWatch {
  stop(): void;
  /** Whether events are flowing: false while the monitor is down (the subscriber polls). */
  live(): boolean;
}

/** How long after the start ip is taken to be listening (events before are passed on too). */
const SETTLE_MS = 300;
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A child that ran this long starts the backoff over when it dies. */
const STABLE_MS = 60_000;

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** `argv` run through util-linux setpriv --pdeathsig KILL where there is one: the kernel ends it
 * when we end, even by SIGKILL (prctl PR_SET_PDEATHSIG survives its exec of ip). */
export function withParentDeathSignal(argv: readonly string[]): string[] {
  return SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', ...argv] : [...argv];
}

export class LinkMonitor {
  private readonly subscribers = new Set<LinkChanged>();
  private proc: ChildProcessWithoutNullStreams | undefined;
  private isLive = false;
  /** Died since it was last live: its return is logged. */
  private lost = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = RESTART_FIRST_MS;
  /** Names by ifindex, so a rename also re-reads the old name. Bounded by the host's interfaces. */
  private readonly names = new Map<number, string>();
  private readonly killOnExit = (): void => void this.proc?.kill('SIGKILL');
  readonly counts = { events: 0, unknown: 0, overlong: 0, restarts: 0 };
  /** Interfaces named by the lines of the current read, in order (flushChanged). */
  private readonly changed = new Set<string>();

  /** `command`: how to run ip (tests prefix `ip netns exec NS`). */
  constructor(
    private readonly log: (level: 'info' | 'warn', message: string) => void,
    private readonly command: readonly string[] = withParentDeathSignal(['ip']),
  ) {}

  /** Calls `changed` for each event from now on; the child starts with the first subscriber. */
  subscribe(changed: LinkChanged): LinkWatch {
    this.subscribers.add(changed);
    if (!this.proc && !this.timer && !this.closed) this.start();
    return { stop: () => this.subscribers.delete(changed), live: () => this.isLive };
  }

  /** Has every subscriber re-read `ifname` now: a change of ours the kernel's events came before
   * (a VMAC's sockets opened after its link events). */
  touch(ifname: string): void {
    this.emit(ifname);
  }

  /** The child's pid while it runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Ends the child (the daemon's stop); no restart after this. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.proc;
    this.proc = undefined;
    this.isLive = false;
    p?.kill('SIGTERM');
    process.off('exit', this.killOnExit);
  }

  private start(): void {
    this.timer = undefined;
    const started = Date.now();
    // ip's last complaint (it cannot open its netlink socket, say), for the line that reports the exit.
    let said = '';
    const p = spawnLongLived([...this.command, '-o', 'monitor', 'link', 'address'], 'ip monitor', (exited) => {
      const why = said ? `${exited}: ${said}` : exited;
      if (this.proc !== p) return;
      this.proc = undefined;
      this.isLive = false;
      this.lost = true;
      clearTimeout(this.timer);
      if (Date.now() - started >= STABLE_MS) this.backoffMs = RESTART_FIRST_MS;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
      this.log('warn', `Link monitor: ${why}; polling interfaces every 0.2 s, restarting it in ${wait / 1000} s`);
      this.timer = setTimeout(() => this.restart(), wait);
      this.timer.unref();
      this.emit(undefined);
    });
    this.proc = p;
    // If we end without a stop, the child goes too (and on a SIGKILL of us, by its parent-death
    // signal, or without setpriv of SIGPIPE at its next event).
    process.off('exit', this.killOnExit);
    process.once('exit', this.killOnExit);
    const lines = new LineReader(
      (l) => this.line(l),
      () => {
        this.counts.overlong++;
        this.emit(undefined);
      },
    );
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      lines.push(d);
      this.flushChanged();
    });
    const complaints = new LineReader((l) => (said = l.trim().slice(0, 200)), undefined, 1024);
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d: string) => complaints.push(d));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.proc !== p) return;
      this.isLive = true;
      if (this.lost) this.log('info', 'Link monitor restarted: following link events again');
      this.lost = false;
      // What changed while it was not listening yet.
      this.emit(undefined);
    }, SETTLE_MS);
    this.timer.unref();
  }

  private restart(): void {
    if (this.closed) return;
    this.counts.restarts++;
    this.start();
  }

  private line(l: string): void {
    const e = parseMonitorLine(l);
    if (!e) {
      this.counts.unknown++;
      return;
    }
    this.counts.events++;
    const before = this.names.get(e.ifindex);
    if (e.kind === 'link' && e.deleted) this.names.delete(e.ifindex);
    else if (e.kind === 'link') this.names.set(e.ifindex, e.ifname);
    if (before !== undefined && before !== e.ifname) this.changed.add(before);
    this.changed.add(e.ifname);
  }

  /** Each interface named in one read of ip's output, once: 1,000 VIPs added together are 1,000
   * address lines, and every subscriber re-reads the interface's whole state anyway. */
  private flushChanged(): void {
    const names = [...this.changed];
    this.changed.clear();
    for (const n of names) this.emit(n);
  }

  private emit(ifname: string | undefined): void {
    for (const s of [...this.subscribers]) s(ifname);
  }
}
