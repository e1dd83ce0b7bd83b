// The lab's start gate (src/lab/netns/): KEEPALIVED_TS_START_GATE names a FIFO, and the daemon,
// its configuration loaded, waits there until the lab writes to it, before any VRRP
// instance or checker starts. The lab opens every node's gate at once, so that each node's timers
// start together whatever its start-up cost (Node's half a second against keepalived's few ms):
// a head start would decide the first election. Without the variable nothing waits. Taken out of
// the environment, so no script the daemon runs sees it.
import { open } from 'node:fs/promises';

export const START_GATE_ENV = 'KEEPALIVED_TS_START_GATE';

/** Resolves once the gate is opened (or at once without one); the path, when there was a gate. */
export async function startGate(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = env[START_GATE_ENV];
  delete env[START_GATE_ENV];
  if (!path) return undefined;
  // Blocks (on a libuv thread) in open() until the lab opens the writing end, then in read()
  // until its first bytes (or its close).
  const gate = await open(path, 'r');
  try {
    await gate.read(Buffer.alloc(16), 0, 16, null);
  } finally {
    await gate.close();
  }
  return path;
}
