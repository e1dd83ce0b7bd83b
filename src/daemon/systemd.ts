// systemd's service notifications (sd_notify(3)) for Type=notify units: READY=1 once VRRP and the
// data plane are up, RELOADING=1 / READY=1 around a reload, STOPPING=1, and WATCHDOG=1 pings when
// the unit sets WatchdogSec. Node's dgram has no AF_UNIX, so the datagrams go through the
// unix-dgram addon (what systemd's own socket is); without NOTIFY_SOCKET nothing is loaded.
import { createRequire } from 'node:module';
import type { Phase } from './lifecycle.js';

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', cb: (e: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

export interface SystemdEnv {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

export interface SystemdNotifier {
  /** The lifecycle went from one phase to another: tell systemd what it means for the unit. */
  phase(to: Phase, from: Phase): void;
  close(): void;
}

const NONE: SystemdNotifier = { phase: () => undefined, close: () => undefined };

/** The notification for a lifecycle phase change, or undefined where systemd wants none. */
export function phaseMessage(from: Phase, to: Phase, monotonicUsec: bigint, status?: string): string | undefined {
  const st = status ? `\nSTATUS=${status.replace(/\n/g, ' ')}` : '';
  if (to === 'running' && (from === 'starting' || from === 'reloading')) return `READY=1${st}`;
  // MONOTONIC_USEC: what Type=notify-reload (systemd 253) checks the reload's start against.
  if (to === 'reloading') return `RELOADING=1\nMONOTONIC_USEC=${monotonicUsec}${st}`;
  if (to === 'stopping') return `STOPPING=1${st}`;
  return undefined;
}

/** The watchdog interval, as sd_watchdog_enabled(3) decides it: WATCHDOG_USEC, for this pid. */
export function watchdogUsec(env: SystemdEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return usec;
}

/**
 * The notifier for this process. The variables are removed from `env` (sd_notify's
 * unset_environment), so notify scripts and checks do not talk to systemd in our name.
 */
export function systemdNotifier(env: SystemdEnv & NodeJS.ProcessEnv, log: (level: 'info' | 'warn', msg: string) => void): SystemdNotifier {
  const path = env.NOTIFY_SOCKET;
  const wd = watchdogUsec(env, process.pid);
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (!path) return NONE;
  if (!path.startsWith('/')) {
    log('warn', `NOTIFY_SOCKET ${JSON.stringify(path)} is not a path (abstract sockets are not supported): systemd is not notified`);
    return NONE;
  }
  let sock: UnixDgramSocket;
  try {
    sock = (createRequire(import.meta.url)('unix-dgram') as UnixDgramModule).createSocket('unix_dgram');
  } catch (e) {
    log('warn', `cannot notify systemd: ${(e as Error).message}`);
    return NONE;
  }
  let failed = false;
  sock.on('error', (e) => {
    if (!failed) log('warn', `systemd notification to ${path} failed: ${e.message}`);
    failed = true;
  });
  const send = (msg: string): void => {
    const buf = Buffer.from(msg);
    sock.send(buf, 0, buf.length, path);
  };
  let timer: NodeJS.Timeout | undefined;
  if (wd !== undefined) {
    // Half the interval, as sd_watchdog_enabled(3) advises; a ping proves the event loop runs.
    timer = setInterval(() => send('WATCHDOG=1'), Math.max(1, Math.floor(wd / 2000)));
    timer.unref();
    log('info', `systemd watchdog: a ping every ${Math.floor(wd / 2000)} ms`);
  }
  return {
    phase(to, from) {
      const msg = phaseMessage(from, to, process.hrtime.bigint() / 1000n);
      if (msg) send(msg);
    },
    close() {
      if (timer) clearInterval(timer);
      sock.close();
    },
  };
}
