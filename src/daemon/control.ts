// A local control socket for operator commands (`keepalived-ts ipvsadm -Ln`): one request line,
// one JSON answer. It lives in the private runtime directory (runtime.ts), mode 0600. A socket a
// running daemon answers on is never taken over, and on exit a daemon removes only its own.
import { lstatSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';

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
