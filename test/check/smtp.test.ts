// SMTP_CHECK against tiny SMTP servers on loopback.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProbe } from '../../src/check/dispatch.js';
import { smtpProbe } from '../../src/check/probe-smtp.js';
import { smtpCheckers } from '../../src/config/resolve-lvs.js';
import type { SmtpCheck } from '../../src/config/model/index.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { jobFor, load, vsConf } from './conf.js';

interface Script {
  /** null: never greet. */
  banner: string | null;
  helo?: string;
  /** null: close without answering QUIT. */
  quit?: string | null;
}

const servers: Server[] = [];
const heard: string[] = [];
afterAll(() => servers.forEach((s) => s.close()));

function smtpServer(script: Script): Promise<number> {
  const srv = createServer((c: Socket) => {
    c.on('error', () => {});
    if (script.banner !== null) c.write(script.banner);
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        heard.push(line);
        if (line.startsWith('HELO')) c.write(script.helo ?? '250 pleased to meet you\r\n');
        else if (line === 'QUIT') {
          if (script.quit === null) c.destroy();
          else c.end(script.quit ?? '221 bye\r\n');
        }
      }
    });
  });
  servers.push(srv);
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
}

const target = (port: number, connectTimeout = 0.5) => ({ host: '127.0.0.1', port, connectTimeout });

describe('SMTP_CHECK', () => {
  it('passes on 220, HELO answered by 250, and QUIT answered', async () => {
    const port = await smtpServer({ banner: '220 mx.test ESMTP\r\n' });
    heard.length = 0;
    expect(await smtpProbe(target(port), 'checker.example')).toEqual({ ok: true, reason: 'SMTP: 220, 250 and QUIT answered' });
    expect(heard).toEqual(['HELO checker.example', 'QUIT']);
  });

  it("sends keepalived's default helo_name when the config sets none", async () => {
    const port = await smtpServer({ banner: '220 mx.test\r\n' });
    heard.length = 0;
    const runner = new ScriptRunner();
    const probe = makeProbe(runner);
    expect(await probe(jobFor('SMTP_CHECK {\n      connect_timeout 0.5\n    }', `127.0.0.1:${port}`))).toMatchObject({ ok: true });
    expect(heard[0]).toBe('HELO smtpchecker.keepalived.org');
    probe.dispose();
    await runner.shutdown();
  });

  it('fails on a greeting other than 220', async () => {
    const port = await smtpServer({ banner: '554 no service here\r\n' });
    expect(await smtpProbe(target(port), 'x')).toEqual({ ok: false, reason: 'SMTP: expected 220 greeting, got 554' });
  });

  it('fails on a multi-line greeting and on a bare "220", as keepalived\'s status parser does', async () => {
    const multi = await smtpServer({ banner: '220-mx.test first line\r\n220 mx.test\r\n' });
    expect(await smtpProbe(target(multi), 'x')).toEqual({ ok: false, reason: 'SMTP: expected 220 greeting, got "220-mx.test first line\\r"' });
    const bare = await smtpServer({ banner: '220\r\n' });
    expect(await smtpProbe(target(bare), 'x')).toEqual({ ok: false, reason: 'SMTP: expected 220 greeting, got "220\\r"' });
  });

  it("fails on a greeting line longer than keepalived's buffer", async () => {
    const port = await smtpServer({ banner: `220 ${'x'.repeat(600)}` });
    expect(await smtpProbe(target(port), 'x')).toEqual({ ok: false, reason: 'SMTP: no end of line within 511 bytes (waiting for the reply greeting)' });
  });

  it('fails when HELO is not answered by 250', async () => {
    const port = await smtpServer({ banner: '220 mx.test\r\n', helo: '550 go away\r\n' });
    expect(await smtpProbe(target(port), 'x')).toEqual({ ok: false, reason: 'SMTP: expected 250 after HELO, got 550' });
  });

  it('fails when the server never greets, within connect_timeout', async () => {
    const port = await smtpServer({ banner: null });
    const t0 = Date.now();
    expect(await smtpProbe(target(port, 0.3), 'x')).toEqual({ ok: false, reason: 'SMTP: read timeout after 0.3s (waiting for the reply greeting)' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('fails when the server closes instead of answering QUIT', async () => {
    const port = await smtpServer({ banner: '220 mx.test\r\n', quit: null });
    expect(await smtpProbe(target(port), 'x')).toEqual({ ok: false, reason: 'SMTP: connection closed by the server (waiting for the reply after QUIT)' });
  });

  it('fails on a refused connection', async () => {
    const port = await smtpServer({ banner: '220\r\n' });
    await new Promise((r) => servers.pop()!.close(r));
    const r = await smtpProbe(target(port), 'x');
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^SMTP: ECONNREFUSED/);
  });

  it('makes one checker per deprecated host block, the SMTP_CHECK itself only with its own connection options', () => {
    const cfg = load(
      vsConf(
        ['127.0.0.1:25'],
        'SMTP_CHECK {\n      helo_name me\n      host {\n        connect_ip 127.0.0.2\n        connect_port 2525\n      }\n      host {\n        connect_ip 127.0.0.3\n      }\n    }',
      ),
    );
    const c = cfg.virtualServers[0].realServers[0].checkers[0] as SmtpCheck;
    expect(smtpCheckers(c).map((x) => [x.connectIp, x.connectPort, x.heloName])).toEqual([
      ['127.0.0.2', 2525, 'me'],
      ['127.0.0.3', undefined, 'me'],
    ]);
    const own = load(vsConf(['127.0.0.1:25'], 'SMTP_CHECK {\n      connect_port 2526\n      host {\n        connect_ip 127.0.0.2\n      }\n    }'));
    expect(smtpCheckers(own.virtualServers[0].realServers[0].checkers[0] as SmtpCheck).map((x) => [x.connectIp, x.connectPort])).toEqual([
      [undefined, 2526],
      ['127.0.0.2', undefined],
    ]);
  });
});
