// The checker probes against real local servers and real scripts.
import { createHash } from 'node:crypto';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createTcp, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkerResult, initialChecker } from '../../src/check/state.js';
import { httpProbe, miscProbe, tcpProbe } from '../../src/check/probes.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import type { HttpUrl } from '../../src/config/model/index.js';

const BODY = 'hello from a real server\n';
let http: Server;
let silent: TcpServer;
let garbage: TcpServer;
let reset: TcpServer;
const port = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;
const listen = <T extends { listen(port: number, host: string, cb: () => void): unknown }>(s: T) => new Promise<T>((r) => s.listen(0, '127.0.0.1', () => r(s)));
let lastHost = '';
let lastUa = '';

beforeAll(async () => {
  http = await listen(
    createHttp((req, res) => {
      lastHost = req.headers.host ?? '';
      lastUa = req.headers['user-agent'] ?? '';
      if (req.url === '/missing') {
        res.writeHead(404);
        res.end('no');
        return;
      }
      if (req.url === '/moved') {
        res.writeHead(301, { Location: '/' });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(BODY);
    }),
  );
  silent = await listen(
    createTcp(() => {
      /* accepts, never answers */
    }),
  );
  garbage = await listen(createTcp((s) => s.end('\x00\x01garbage\r\n\r\n')));
  reset = await listen(createTcp((s) => s.resetAndDestroy()));
});
afterAll(() => {
  for (const s of [http, silent, garbage, reset]) s.close();
});

const url = (over: Partial<HttpUrl> = {}): HttpUrl => ({
  span: { file: 'k', line: 1, col: 1 },
  spans: {},
  path: '/',
  statusCode: [],
  regexNoMatch: false,
  regexOptions: [],
  ...over,
});
const target = (p: number, connectTimeout = 1) => ({ host: '127.0.0.1', port: p, connectTimeout });

describe('TCP_CHECK', () => {
  it('succeeds on a listening port and fails on a closed one, with the reason', async () => {
    expect(await tcpProbe(target(port(http)))).toMatchObject({ ok: true });
    const closedPort = port(http) === 1 ? 2 : 1;
    const r = await tcpProbe(target(closedPort));
    expect(r).toMatchObject({ ok: false });
    expect(r.reason).toMatch(/ECONNREFUSED|EACCES/);
  });
});

describe('HTTP_GET', () => {
  const md5 = createHash('md5').update(BODY).digest('hex');
  const opts = { tls: false, protocol: '1.0' as const };

  it("accepts 2xx by default and sends keepalived's request", async () => {
    expect(await httpProbe(target(port(http)), url(), opts)).toMatchObject({ ok: true, reason: 'status 200' });
    expect(lastUa).toBe('KeepAliveClient');
    expect(lastHost).toBe(`127.0.0.1:${port(http)}`);
    await httpProbe(target(port(http)), url(), { ...opts, virtualhost: 'www.example.com' });
    expect(lastHost).toBe('www.example.com');
  });

  it('checks status_code ranges', async () => {
    expect((await httpProbe(target(port(http)), url({ path: '/missing' }), opts)).reason).toContain('status_code [404]');
    expect(await httpProbe(target(port(http)), url({ path: '/moved' }), opts)).toMatchObject({ ok: false });
    expect(
      await httpProbe(
        target(port(http)),
        url({
          path: '/moved',
          statusCode: [
            { min: 200, max: 200 },
            { min: 301, max: 399 },
          ],
        }),
        opts,
      ),
    ).toMatchObject({ ok: true });
  });

  it('checks the MD5 digest of the body (as genhash computes it) and regex', async () => {
    expect(await httpProbe(target(port(http)), url({ digest: md5 }), opts)).toMatchObject({ ok: true });
    expect((await httpProbe(target(port(http)), url({ digest: '0'.repeat(32) }), opts)).reason).toContain(`got ${md5}`);
    expect(await httpProbe(target(port(http)), url({ regex: 'real serv' }), opts)).toMatchObject({ ok: true });
    expect(await httpProbe(target(port(http)), url({ regex: 'real serv', regexNoMatch: true }), opts)).toMatchObject({ ok: false });
  });

  it('fails, with the reason, on a server that never answers, answers garbage, or resets', async () => {
    const t0 = Date.now();
    const hung = await httpProbe(target(port(silent), 0.3), url(), opts);
    expect(hung).toMatchObject({ ok: false, reason: 'read timeout after 0.3s' });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await httpProbe(target(port(garbage)), url(), opts)).toMatchObject({ ok: false, reason: 'not an HTTP response' });
    const rst = await httpProbe(target(port(reset)), url(), opts);
    expect(rst.ok).toBe(false);
    expect(rst.reason).toMatch(/ECONNRESET|no data received/);
  });
});

describe('MISC_CHECK', () => {
  const runner = new ScriptRunner();
  afterAll(() => runner.shutdown());
  it('exit 0 succeeds, 1 fails, 2..255 sets the weight with misc_dynamic', async () => {
    expect(await miscProbe(runner, ['/bin/sh', '-c', 'exit 0'], 2, false)).toMatchObject({ ok: true });
    expect(await miscProbe(runner, ['/bin/sh', '-c', 'exit 1'], 2, true)).toMatchObject({ ok: false, reason: 'exit 1' });
    expect(await miscProbe(runner, ['/bin/sh', '-c', 'exit 7'], 2, false)).toMatchObject({ ok: false });
    expect(await miscProbe(runner, ['/bin/sh', '-c', 'exit 7'], 2, true)).toMatchObject({ ok: true, weight: 5 });
  });

  it('a hung script is killed at misc_timeout and fails', async () => {
    const t0 = Date.now();
    expect(await miscProbe(runner, ['sleep', '30'], 0.3, false)).toMatchObject({ ok: false, reason: 'timed out after 0.3s' });
    expect(Date.now() - t0).toBeLessThan(2500);
  });
});

describe('checker verdicts (retry, delay_before_retry, alpha)', () => {
  const t = { delayLoop: 6, retry: 2, delayBeforeRetry: 1 };
  it('goes DOWN only after retry+1 failures in a row, retrying sooner in between', () => {
    let s = initialChecker(false);
    const seq = [false, false, false, true].map((ok) => {
      const v = checkerResult(s, ok, t);
      s = v.state;
      return [v.state.up, v.changed, v.nextIn];
    });
    expect(seq).toEqual([
      [true, false, 1],
      [true, false, 1],
      [false, true, 6],
      [true, true, 6],
    ]);
  });

  it('with alpha, starts DOWN until the first success', () => {
    const v = checkerResult(initialChecker(true), true, t);
    expect([v.state.up, v.changed]).toEqual([true, true]);
    expect(checkerResult(initialChecker(true), false, t).changed).toBe(false);
  });
});
