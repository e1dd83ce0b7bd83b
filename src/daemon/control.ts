// A local control socket for operator commands (`keepalived-ts ipvsadm -Ln`): one request line,
// one JSON answer. It lives in the private runtime directory (runtime.ts), mode 0600. A socket a
// running daemon answers on is never taken over, and on exit a daemon removes only its own.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export type Handlers = Record<string, () => unknown>;

/** Does a process answer on the socket at `path`? */
export function controlInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/** Sockets in the runtime directory `dir` that no daemon listens on any more (daemons killed
 * with -9 leave theirs): removed, so that daemons with pid files in ever new directories (test
 * labs) leave nothing behind. Only a refused connection counts, and only for a socket older than
 * 10 s, so one that a starting daemon has bound but not yet listens on is left alone. */
export async function sweepStaleControls(dir: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.ctl'))) {
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isSocket() || st.mtimeMs > Date.now() - 10_000) continue;
    const refused = await new Promise<boolean>((resolve) => {
      const c = connect(path);
      c.on('connect', () => {
        c.destroy();
        resolve(false);
      });
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) rmSync(path, { force: true });
  }
}

export function startControl(handlers: Handlers, path: string): Server {
  // A socket left there is stale (controlInUse said so); a symlink is removed, never followed.
  const there = lstatSync(path, { throwIfNoEntry: false });
  if (there?.isSocket() || there?.isSymbolicLink()) rmSync(path, { force: true });
  const srv = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 256) c.destroy();
        return;
      }
      const cmd = buf.slice(0, nl).trim();
      const h = handlers[cmd];
      c.end(JSON.stringify(h ? { ok: true, data: h() } : { ok: false, error: `unknown command '${cmd}'` }) + '\n');
    });
    c.on('error', () => c.destroy());
  });
  // bind() creates the socket file within listen(): mode 0600 from the umask of that moment.
  const umask = process.umask(0o177);
  try {
    srv.listen(path);
  } finally {
    process.umask(umask);
  }
  let ino: number | undefined;
  srv.on('listening', () => (ino = lstatSync(path, { throwIfNoEntry: false })?.ino));
  srv.on('close', () => {
    if (ino !== undefined && lstatSync(path, { throwIfNoEntry: false })?.ino === ino) rmSync(path, { force: true });
  });
  return srv;
}
