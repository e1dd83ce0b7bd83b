// The daemon's lifecycle as a pure transition function: start, reload and stop never overlap,
// quick reloads coalesce, a reload during a stop is dropped, a crash stops with a failure status.
import { describe, expect, it } from 'vitest';
import { initialLife, Lifecycle, transition, type LifeAction, type LifeEvent, type LifeState } from '../../src/daemon/lifecycle.js';

/** Feeds events from the initial state; returns the last state and every action, logs apart. */
function run(events: LifeEvent[], from: LifeState = initialLife): { state: LifeState; jobs: LifeAction[]; logs: string[] } {
  let s = from;
  const jobs: LifeAction[] = [];
  const logs: string[] = [];
  for (const ev of events) {
    const [next, actions] = transition(s, ev);
    s = next;
    for (const a of actions) {
      if (a.type === 'log') logs.push(a.message);
      else jobs.push(a);
    }
  }
  return { state: s, jobs, logs };
}

const STOP: LifeEvent = { type: 'stop', why: 'Received SIGTERM', code: 0 };
const CRASH: LifeEvent = { type: 'crash', why: 'Uncaught exception', code: 1 };

describe('lifecycle transition', () => {
  it('a reload during start waits for the start; two become one', () => {
    const r = run([{ type: 'reload' }, { type: 'reload' }, { type: 'done' }]);
    expect(r.jobs).toEqual([{ type: 'runReload' }]);
    expect(r.state.phase).toBe('reloading');
    expect(r.logs).toEqual(['Reload request queued until the start in progress ends', 'Reload request merged with the one already queued']);
  });

  it('SIGHUPs during a reload coalesce into one more reload, run after it', () => {
    const r = run([{ type: 'done' }, { type: 'reload' }, { type: 'reload' }, { type: 'reload' }]);
    expect(r.jobs).toEqual([{ type: 'runReload' }]);
    expect(r.state).toEqual({ phase: 'reloading', reloadQueued: true });
    const after = run([{ type: 'done' }], r.state);
    expect(after.jobs).toEqual([{ type: 'runReload' }]);
    expect(after.state).toEqual({ phase: 'reloading', reloadQueued: false });
    expect(run([{ type: 'done' }], after.state).state).toEqual({ phase: 'running', reloadQueued: false });
  });

  it('a stop during a reload runs after it and cancels a queued reload', () => {
    const r = run([{ type: 'done' }, { type: 'reload' }, { type: 'reload' }, STOP, { type: 'reload' }, { type: 'done' }]);
    expect(r.jobs).toEqual([{ type: 'runReload' }, { type: 'runStop', why: 'Received SIGTERM', code: 0 }]);
    expect(r.state.phase).toBe('stopping');
    expect(r.logs).toContain('Reload request ignored: a stop is queued');
  });

  it('during a stop, reloads and stops are dropped with a log line; the end exits with the code', () => {
    const r = run([{ type: 'done' }, STOP, { type: 'reload' }, STOP, { type: 'done' }, { type: 'reload' }]);
    expect(r.jobs).toEqual([
      { type: 'runStop', why: 'Received SIGTERM', code: 0 },
      { type: 'exit', code: 0 },
    ]);
    expect(r.logs).toEqual(['Reload request ignored: stopping', 'Received SIGTERM: already stopping']);
    expect(r.state.phase).toBe('stopped');
  });

  it('a crash stops at once in any phase with a failure status; a crash while stopping makes the status a failure', () => {
    for (const before of [[], [{ type: 'done' }], [{ type: 'done' }, { type: 'reload' }]] as LifeEvent[][]) {
      const r = run([...before, CRASH]);
      expect(r.jobs.at(-1)).toEqual({ type: 'runStop', why: 'Uncaught exception', code: 1 });
      expect(r.state.phase).toBe('stopping');
      expect(run([{ type: 'done' }], r.state).jobs).toEqual([{ type: 'exit', code: 1 }]);
      expect(run([CRASH], r.state).jobs).toEqual([]);
    }
    // A SIGTERM stop during which something crashes goes on, and ends with a failure.
    const crashed = run([{ type: 'done' }, STOP, CRASH]);
    expect(crashed.jobs).toEqual([{ type: 'runStop', why: 'Received SIGTERM', code: 0 }]);
    expect(crashed.logs).toEqual(['Uncaught exception while stopping: the stop goes on, exit status 1']);
    expect(run([{ type: 'done' }], crashed.state).jobs).toEqual([{ type: 'exit', code: 1 }]);
  });

  it('a start that fails exits with its status, queued requests and all', () => {
    const r = run([{ type: 'reload' }, STOP, { type: 'done', failed: 2 }]);
    expect(r.jobs).toEqual([{ type: 'exit', code: 2 }]);
    expect(r.state.phase).toBe('stopped');
  });
});

describe('Lifecycle runner', () => {
  it('never runs two jobs at once', async () => {
    let active = 0;
    let most = 0;
    const ran: string[] = [];
    const job = (what: string) => async () => {
      active++;
      most = Math.max(most, active);
      ran.push(what);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    };
    let exited: number | undefined;
    const life = new Lifecycle({ reload: job('reload'), stop: job('stop'), exit: (c) => (exited = c), log: () => undefined });
    life.dispatch({ type: 'done' });
    for (let i = 0; i < 5; i++) life.dispatch({ type: 'reload' });
    life.dispatch(STOP);
    life.dispatch({ type: 'reload' });
    await new Promise((r) => setTimeout(r, 100));
    expect(most).toBe(1);
    expect(ran).toEqual(['reload', 'stop']);
    expect(exited).toBe(0);
  });

  it('a stop that throws still ends, with a failure status', async () => {
    let exited: number | undefined;
    const life = new Lifecycle({
      reload: () => Promise.resolve(),
      stop: () => Promise.reject(new Error('stuck')),
      exit: (c) => (exited = c),
      log: () => undefined,
    });
    life.dispatch({ type: 'done' });
    life.dispatch(STOP);
    await new Promise((r) => setTimeout(r, 10));
    expect(exited).toBe(1);
  });

  it('a reload that throws is logged and the daemon keeps running', async () => {
    const logs: string[] = [];
    const life = new Lifecycle({
      reload: () => Promise.reject(new Error('boom')),
      stop: () => Promise.resolve(),
      exit: () => undefined,
      log: (_l, m) => logs.push(m),
    });
    life.dispatch({ type: 'done' });
    life.dispatch({ type: 'reload' });
    await new Promise((r) => setTimeout(r, 10));
    expect(life.state.phase).toBe('running');
    expect(logs.join('\n')).toMatch(/reload failed: Error: boom/);
  });
});
