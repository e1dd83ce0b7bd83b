// SSL_GET against a real TLS server that asks for a client certificate: the top-level SSL block's
// certificate, key and password are presented as keepalived presents them, the server is not
// verified (keepalived never sets SSL_VERIFY_PEER), and SNI goes out only with enable_sni.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProbe } from '../../src/check/dispatch.js';
import { sslContext } from '../../src/check/tls-context.js';
import type { CheckJob } from '../../src/check/pool.js';
import type { SslConfig } from '../../src/config/model/index.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { load, vsConf } from './conf.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-ssl-'));
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
let server: Server;
let port = 0;
const seen: { sni: string | false; peerCert: boolean }[] = [];

beforeAll(async () => {
  // A CA that signs the client's certificate; the server's own is self-signed (nobody checks it).
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=kt-test-ca');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('srv.key'), '-out', f('srv.pem'), '-days', '2', '-subj', '/CN=rs.example');
  openssl('req', '-newkey', 'rsa:2048', '-passout', 'pass:s3cret', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=director');
  openssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.pem'), '-days', '2');
  server = createServer(
    { key: readFileSync(f('srv.key')), cert: readFileSync(f('srv.pem')), ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      seen.push({ sni: sock.servername ?? false, peerCert: sock.authorized });
      res.writeHead(200);
      res.end('ok\n');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
}, 60_000);
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const runner = new ScriptRunner();
const job = (checker: string, vsExtra = ''): CheckJob => {
  const cfg = load(vsConf([`127.0.0.1:${port}`], checker).replace('protocol TCP', `protocol TCP\n  ${vsExtra}`));
  const vs = cfg.resolved.virtualServers[0];
  const rs = vs.realServers[0];
  return { ...rs.checks[0], vs, rs };
};
const SSL_GET = (extra = '') => `SSL_GET {\n      url {\n        path /\n      }\n      connect_timeout 5\n      ${extra}\n    }`;
const probeWith = (ssl: SslConfig | undefined) => {
  const ctx = sslContext(ssl);
  if (ctx && 'error' in ctx) throw new Error(ctx.error.join('\n'));
  return makeProbe(runner, undefined, () => ctx);
};
const ssl = (over: Partial<SslConfig> = {}): SslConfig =>
  ({ span: { file: 'k.conf', line: 1, col: 1 }, certificate: f('client.pem'), key: f('client.key'), password: 's3cret', ...over }) as SslConfig;

describe('SSL_GET and the SSL block', () => {
  it('presents the client certificate (key decrypted with password); without the block the server refuses', async () => {
    expect(await probeWith(ssl())(job(SSL_GET()))).toMatchObject({ ok: true });
    expect(seen.at(-1)).toEqual({ sni: false, peerCert: true });
    const without = await probeWith(undefined)(job(SSL_GET()));
    expect(without.ok).toBe(false);
  });

  it('does not verify the server, even with a CA file that does not sign it (as keepalived)', async () => {
    expect(await probeWith(ssl({ ca: f('ca.pem') }))(job(SSL_GET()))).toMatchObject({ ok: true });
  });

  it('sends SNI only with enable_sni: the url, then the checker, then the virtual server virtualhost', async () => {
    await probeWith(ssl())(job(SSL_GET('virtualhost chk.example')));
    expect(seen.at(-1)?.sni).toBe(false);
    await probeWith(ssl())(job(SSL_GET('virtualhost chk.example\n      enable_sni')));
    expect(seen.at(-1)?.sni).toBe('chk.example');
    await probeWith(ssl())(job(SSL_GET('enable_sni'), 'virtualhost vs.example'));
    expect(seen.at(-1)?.sni).toBe('vs.example');
    const urlHost = SSL_GET('virtualhost chk.example\n      enable_sni').replace('path /', 'path /\n        virtualhost url.example');
    await probeWith(ssl())(job(urlHost));
    expect(seen.at(-1)?.sni).toBe('url.example');
  });

  it("fails with keepalived's line for the file that does not load", () => {
    const err = (over: Partial<SslConfig>) => {
      const r = sslContext(ssl(over));
      return r && 'error' in r ? r.error : [];
    };
    expect(err({ certificate: f('absent.pem') })[0]).toMatch(/^SSL error : Cant load certificate file\.\.\. \(.*absent\.pem: missing\)$/);
    expect(err({ password: 'wrong' })[0]).toMatch(/^SSL error : Cant load key file\.\.\./);
    expect(err({ key: f('srv.key') })[0]).toMatch(/^SSL error : Cant load key file\.\.\./);
    writeFileSync(f('junk.pem'), 'not a certificate\n');
    expect(err({ ca: f('junk.pem') })[0]).toMatch(/^SSL error : Cant load CA file\.\.\./);
    expect(err({ ca: f('junk.pem') })).toContain('Error Initialize SSL, ctx Instance');
    // The password is never part of what is logged.
    expect(err({ password: 'wrong' }).join('\n')).not.toContain('wrong');
  });

  it('the daemon does not start when the SSL block does not load and an SSL_GET runs (keepalived: fatal)', () => {
    const conf = f('bad-ssl.conf');
    writeFileSync(conf, `SSL {\n  certificate ${f('absent.pem')}\n}\n${vsConf([`127.0.0.1:${port}`], SSL_GET())}`);
    const cli = join(import.meta.dirname, '../../dist/keepalived-ts.mjs');
    const r = spawnSync(process.execPath, [cli, '-n', '-C', '-G', '-p', f('bad.pid'), '-f', conf], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TMPDIR: dir },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Cant load certificate file.*not starting/);
  }, 60_000);
});
