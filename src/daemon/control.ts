// A local control socket for operator commands (`keepalived-ts ipvsadm -Ln`): one request line,
// one JSON answer. Root's is /run/keepalived-ts.ctl, anyone else's in the temp directory;
// KEEPALIVED_TS_CONTROL overrides both.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function controlPath(): string {
  if (process.env.KEEPALIVED_TS_CONTROL) return process.env.KEEPALIVED_TS_CONTROL;
  return process.getuid?.() === 0 ? '/run/keepalived-ts.ctl' : join(tmpdir(), `keepalived-ts-${process.getuid?.() ?? 0}.ctl`);
}

export type Handlers = Record<string, () => unknown>;

export function startControl(handlers: Handlers, path = controlPath()): Server {
  rmSync(path, { force: true });
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
  srv.listen(path);
  srv.on('close', () => rmSync(path, { force: true }));
  return srv;
}
