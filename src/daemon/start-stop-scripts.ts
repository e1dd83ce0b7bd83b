// global_defs startup_script and shutdown_script, as keepalived 2.2.7 runs them (core/main.c):
// the startup script runs before anything starts, and the start waits for it to end
// (run_startup_script, startup_script_completed); the shutdown script runs once everything has
// stopped, and the exit waits for it (the end of sigend, shutdown_script_completed). Each has
// its timeout (startup_script_timeout / shutdown_script_timeout, default 10 s): then SIGTERM to
// its process group, SIGKILL 2 s later (handle_child_timeout). keepalived's words:
// "startup script timed out", "startup script script failed, status 1" (sic: the type already
// says "script"), and with -D "Running startup script X" and "... script succeeded".
import type { ScriptRef } from '../config/values.js';
import { runScript, type ScriptResult } from '../proc/script-runner.js';
import type { RunAs } from '../proc/users.js';

/** keepalived's grace between SIGTERM and SIGKILL of a timed-out startup/shutdown script. */
export const START_STOP_KILL_GRACE_MS = 2000;

export interface StartStopEnv {
  /** Who the script runs as: its own user, else the script user. */
  identity(script: ScriptRef): RunAs;
  log(level: 'info' | 'warn', message: string): void;
  /** -D: keepalived logs the start and the success of the script. */
  detail?: boolean;
}

/** Runs the script to its end (or its timeout's kill); never throws. */
export async function runStartStopScript(
  which: 'startup' | 'shutdown',
  script: ScriptRef,
  timeoutS: number,
  env: StartStopEnv,
): Promise<ScriptResult | undefined> {
  const type = `${which} script`;
  const id = env.identity(script);
  if ('error' in id) {
    env.log('warn', `Call of ${type} ${script.argv[0]} failed: ${id.error}`);
    return undefined;
  }
  if (env.detail) env.log('info', `Running ${type} ${script.argv[0]}`);
  const r = await runScript(script.argv, { timeoutMs: timeoutS * 1000, killGraceMs: START_STOP_KILL_GRACE_MS, ...id });
  if (r.error) env.log('warn', `Error exec-ing command '${script.argv[0]}': ${r.error}`);
  else if (r.timedOut) env.log('warn', `${type} timed out`);
  else if (r.code) env.log('warn', `${type} script failed, status ${r.code}`);
  else if (r.code === 0 && env.detail) env.log('info', `${type} script succeeded`);
  return r;
}
