// Kernel IPVS as the data plane, where the kernel has it (/proc/net/ip_vs exists): the table the
// checkers want is rendered in ipvsadm-restore form (ipvsadm.ts), compared with the table last
// applied, and only the difference is sent, in one `ipvsadm -R` per change, so a flapping real
// server costs one small batch and never a flush of the whole table. keepalived's ipwrapper.c
// likewise edits single destinations. The diff is pure; only `apply` runs a process.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { DataPlane } from './table.js';

export const kernelHasIpvs = (procFile = '/proc/net/ip_vs'): boolean => existsSync(procFile);

interface Entry {
  /** `-t ADDR:PORT` (or `-u`, `--sctp-service`, `-f MARK`). */
  service: string;
  /** `-r ADDR:PORT` for a destination; undefined for the service itself. */
  server?: string;
  /** Everything after the key: scheduler and flags, or forwarding method and weight. */
  rest: string;
}

function parseLine(line: string): Entry | undefined {
  const t = line.trim().split(/\s+/);
  const op = t[0];
  if (op !== '-A' && op !== '-a') return undefined;
  const service = `${t[1]} ${t[2]}`;
  if (op === '-A') return { service, rest: t.slice(3).join(' ') };
  const r = t.indexOf('-r');
  if (r < 0) return undefined;
  return { service, server: t[r + 1], rest: [...t.slice(3, r), ...t.slice(r + 2)].join(' ') };
}

function index(table: string): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const line of table.split('\n')) {
    const e = parseLine(line);
    if (e) m.set(e.server ? `${e.service} -r ${e.server}` : e.service, e);
  }
  return m;
}

/**
 * ipvsadm commands (restore syntax) that turn table `from` into table `to`, both in
 * ipvsadm-restore form. Order matters to the kernel: services before their destinations when
 * adding, destinations before their service when deleting.
 */
export function ipvsadmDiff(from: string, to: string): string[] {
  const a = index(from);
  const b = index(to);
  const out: string[] = [];
  const line = (op: string, e: Entry): string => [op, e.service, ...(e.server ? ['-r', e.server] : []), e.rest].filter(Boolean).join(' ');
  const deleteLine = (op: string, e: Entry): string => [op, e.service, ...(e.server ? ['-r', e.server] : [])].join(' ');
  for (const [k, e] of b) if (!e.server && !a.has(k)) out.push(line('-A', e));
  for (const [k, e] of b) if (!e.server && a.has(k) && a.get(k)!.rest !== e.rest) out.push(line('-E', e));
  for (const [k, e] of a) if (e.server && !b.has(k)) out.push(deleteLine('-d', e));
  for (const [k, e] of b) if (e.server && !a.has(k)) out.push(line('-a', e));
  for (const [k, e] of b) if (e.server && a.has(k) && a.get(k)!.rest !== e.rest) out.push(line('-e', e));
  for (const [k, e] of a) if (!e.server && !b.has(k)) out.push(deleteLine('-D', e));
  return out;
}

export interface KernelPlaneEnv {
  /** Runs ipvsadm -R with these lines on stdin; resolves to an error message or undefined. */
  run?(lines: string[]): Promise<string | undefined>;
  /** IPVS's connection timeouts now (ipvsadm -L --timeout), or undefined when they cannot be read. */
  readTimeouts?(): Promise<IpvsTimeouts | undefined>;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface IpvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** Keeps the kernel's table equal to the wanted one, one change batch at a time. */
export class KernelPlane {
  private applied = '';
  private wanted = '';
  private busy?: Promise<void>;
  /** The kernel's timeouts before our first --set (null: they could not be read). */
  private original?: IpvsTimeouts | null;

  constructor(private readonly env: KernelPlaneEnv = {}) {}

  /** The table the checkers want now (ipvsadm-restore form). Applies it after any batch in flight. */
  sync(table: string): Promise<void> {
    this.wanted = table;
    this.busy ??= this.drain();
    return this.busy;
  }

  /** IPVS's connection timeouts (ipvsadm --set), after any batch in flight. */
  async setTimeouts(t: IpvsTimeouts): Promise<void> {
    await this.busy;
    // keepalived's libipvs keeps the values it found before its first change, and puts them
    // back at stop and when a reload drops lvs_timeouts.
    this.original ??= (await (this.env.readTimeouts ?? readIpvsTimeouts)()) ?? null;
    await this.writeTimeouts(t);
  }

  /** The timeouts found before the first setTimeouts(), back in the kernel (none set: nothing to do). */
  async restoreTimeouts(): Promise<void> {
    await this.busy;
    if (this.original) await this.writeTimeouts(this.original);
  }

  private async writeTimeouts(t: IpvsTimeouts): Promise<void> {
    const err = await (this.env.run ?? runIpvsadmRestore)([`--set ${t.tcp} ${t.tcpfin} ${t.udp}`]);
    if (err) this.env.log?.('warn', `ipvsadm --set: ${err}`);
  }

  /** Empties the kernel's whole table, services of other processes included (lvs_flush, at start-up). */
  async flushAll(): Promise<void> {
    await this.busy;
    const err = await (this.env.run ?? runIpvsadmRestore)(['-C']);
    if (err) this.env.log?.('warn', `ipvsadm -C: ${err}`);
    this.applied = '';
  }

  /** Removes every service this process added (keepalived does the same at shutdown). */
  clear(): Promise<void> {
    return this.sync('');
  }

  /**
   * lvs_flush_on_stop VS: removes this process's services without taking their destinations out
   * one by one first (IPVS drops them with the service), as keepalived's clear_service_vs().
   */
  async clearServices(): Promise<void> {
    await this.busy;
    const lines = ipvsadmDiff(this.applied, '').filter((l) => l.startsWith('-D '));
    const err = lines.length ? await (this.env.run ?? runIpvsadmRestore)(lines) : undefined;
    if (err) this.env.log?.('warn', `ipvsadm -R: ${err}`);
    this.applied = '';
  }

  /**
   * Sends batches until the kernel has the wanted table. `busy` is cleared in the same turn as the
   * last comparison, so a sync() that comes any later starts a new drain: cleared a turn later
   * (a .finally()), the changes of a whole reload, made in one turn after a drain that had nothing
   * to send, were seen as in flight and never sent.
   */
  private async drain(): Promise<void> {
    try {
      // First let sync() hold this drain as `busy` (and more changes of this turn come in).
      await Promise.resolve();
      while (this.applied !== this.wanted) {
        const target = this.wanted;
        const lines = ipvsadmDiff(this.applied, target);
        const err = lines.length ? await (this.env.run ?? runIpvsadmRestore)(lines) : undefined;
        if (err) {
          // The kernel refused part of the batch: log it and treat the wanted table as applied,
          // so the next change is diffed from what we asked for rather than retried forever.
          this.env.log?.('warn', `ipvsadm -R: ${err}`);
        }
        this.applied = target;
      }
    } finally {
      this.busy = undefined;
    }
  }
}

/**
 * Kernel IPVS as the service table's data plane: every change to the table re-renders it
 * (`table`, in ipvsadm-restore form) and the KernelPlane sends the difference. The kernel carries
 * the traffic and keeps its own counters, so there is nothing to listen on or flush.
 */
export class IpvsPlane implements DataPlane {
  /** From the first open() to stop(): before, the table is being built; after, it is gone. */
  private carrying = false;

  constructor(
    private readonly table: () => string,
    private readonly kernel: KernelPlane = new KernelPlane(),
    /** lvs_flush_on_stop of the configuration in force: 'full', 'VS', or undefined (not set). */
    private readonly flushOnStop: () => 'full' | 'VS' | undefined = () => undefined,
  ) {}

  add(): void {}

  open(): Promise<void> {
    this.carrying = true;
    return this.kernel.sync(this.table());
  }

  changed(): void {
    if (this.carrying) void this.kernel.sync(this.table());
  }

  retire(): void {
    this.changed();
  }

  flush(): void {}

  /**
   * keepalived removes its virtual servers from IPVS when it stops (ipwrapper.c clear_services):
   * each destination then its service; with lvs_flush_on_stop VS, only the services; with
   * lvs_flush_on_stop, the whole table (other processes' services too).
   */
  stop(): Promise<void> {
    this.carrying = false;
    const flush = this.flushOnStop();
    return flush === 'full' ? this.kernel.flushAll() : flush === 'VS' ? this.kernel.clearServices() : this.kernel.clear();
  }
}

function runIpvsadmRestore(lines: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const p = spawn('ipvsadm', ['-R'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', (e) => resolve(e.message));
    p.on('close', (code) => resolve(code === 0 ? undefined : err.trim() || `exit ${code}`));
    // ipvsadm exits at once on a kernel without IPVS: the write then fails with EPIPE, which is
    // the exit status's business to report, not a crash.
    p.stdin.on('error', () => undefined);
    p.stdin.end(lines.join('\n') + '\n');
  });
}

/** `Timeout (tcp tcpfin udp): 900 120 300`, as ipvsadm -L --timeout prints it. */
export function parseIpvsTimeouts(text: string): IpvsTimeouts | undefined {
  const m = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(text);
  return m ? { tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]) } : undefined;
}

function readIpvsTimeouts(): Promise<IpvsTimeouts | undefined> {
  return new Promise((resolve) => {
    const p = spawn('ipvsadm', ['-L', '--timeout'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', () => resolve(undefined));
    p.on('close', () => resolve(parseIpvsTimeouts(out)));
  });
}
