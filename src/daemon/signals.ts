// keepalived's signals by function, as `keepalived --signum=NAME` prints them (2.2.7 on Linux):
// STATS_CLEAR is SIGRTMAX-1 and JSON SIGRTMIN+2 with glibc's SIGRTMIN 34 and SIGRTMAX 64.
//
// Node names no real-time signal: process.on('SIGRTMIN+2') is a plain event that never fires, and
// an uncaught real-time signal ends the process at once (exit 128+36), with no priority 0 and the
// VIPs left on the interface. The handle behind process.on('SIGUSR1'), libuv's uv_signal_t, takes
// any signal number; Node 20 still reaches it through process.binding('signal_wrap').
export const SIGNALS: Readonly<Record<string, number>> = {
  STOP: 15,
  RELOAD: 1,
  DATA: 10,
  STATS: 12,
  STATS_CLEAR: 63,
  JSON: 36,
};

interface SignalHandle {
  onsignal?: (signum: number) => void;
  start(signum: number): number;
  unref(): void;
  close(): void;
}

/** Call `handler` on signal `signum` (a number, real-time ones included). Returns a function
 * that removes the handler, or an error message when this Node offers no way to catch it. */
export function onSignalNumber(signum: number, handler: () => void): (() => void) | string {
  let Signal: new () => SignalHandle;
  const quiet = process.noDeprecation;
  try {
    // DEP0111 would print a deprecation warning on the daemon's stderr once.
    process.noDeprecation = true;
    ({ Signal } = (process as unknown as { binding(name: string): { Signal: new () => SignalHandle } }).binding('signal_wrap'));
  } catch (e) {
    return `no signal handle in this Node: ${(e as Error).message}`;
  } finally {
    process.noDeprecation = quiet;
  }
  const h = new Signal();
  h.onsignal = () => handler();
  const err = h.start(signum);
  if (err) {
    h.close();
    return `cannot watch signal ${signum} (libuv error ${err})`;
  }
  h.unref();
  return () => h.close();
}
