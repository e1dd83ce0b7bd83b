// The HTML report as a reader sees it, in a real headless Chromium: where the bands, markers and
// bars are drawn, what the tables show, and that the page needs nothing from the network and
// runs nothing from the result. Skipped, with the reason printed, where Chromium is missing
// (CI installs Debian's chromium through .ci/run).
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { renderHtml } from '../../src/lab/report/html.js';
import type { LabResult } from '../../src/lab/model/result.js';
import { failover, hostile, longRun, S, splitBrain, toleratedSplit } from './report-fixtures.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const URL = 'http://lab-report.test/report.html';

async function launch(): Promise<{ browser?: Browser; reason?: string }> {
  if (!existsSync(CHROMIUM)) return { reason: `${CHROMIUM} not found (apt-get install chromium)` };
  try {
    return { browser: await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }) };
  } catch (e) {
    return { reason: `${CHROMIUM} did not start: ${(e as Error).message.split('\n')[0]}` };
  }
}

const { browser, reason } = await launch();
if (reason) console.warn(`report-html browser tests skipped: ${reason}`);
afterAll(async () => browser?.close());

interface Opened {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request besides the report itself (there must be none). */
  requests: string[];
  /** alert()/confirm() a script in the result managed to run. */
  dialogs: string[];
}

/** Serves the report at a fake URL so that every other request the page makes is seen. */
async function open(result: LabResult, width = 1280): Promise<Opened> {
  const page = await browser!.newPage({ viewport: { width, height: 900 } });
  const o: Opened = { page, errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => m.type() === 'error' && o.errors.push(m.text()));
  page.on('pageerror', (e) => o.errors.push(String(e)));
  page.on('dialog', (d) => {
    o.dialogs.push(d.message());
    void d.dismiss();
  });
  // A request blocked by the page's CSP never reaches the route but is still an event.
  page.on('request', (r) => r.url() !== URL && o.requests.push(r.url()));
  const html = renderHtml(result);
  await page.route('**/*', (route) => (route.request().url() === URL ? route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }) : route.abort()));
  await page.goto(URL, { waitUntil: 'load' });
  return o;
}

type Box = { x: number; y: number; width: number; height: number };

/** One page per fixture, shared by the tests that only look at it. */
const opened = new Map<() => LabResult, Promise<Opened>>();
function view(make: () => LabResult): Promise<Opened> {
  let o = opened.get(make);
  if (!o) opened.set(make, (o = open(make())));
  return o;
}

async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  if (!b) throw new Error('element not rendered');
  return b;
}

/** Every element matching `selector`: its data-* attributes, text and rendered box, in one trip. */
async function drawn(page: Page, selector: string): Promise<{ data: Record<string, string>; text: string; box: Box }[]> {
  return page.locator(selector).evaluateAll((es) =>
    es.map((e) => {
      const r = e.getBoundingClientRect();
      return {
        data: { ...(e as SVGElement).dataset } as Record<string, string>,
        text: e.lastChild?.textContent ?? '',
        box: { x: r.x, y: r.y, width: r.width, height: r.height },
      };
    }),
  );
}

interface Band {
  node: string;
  instance: string;
  state: string;
  start: number;
  end: number;
  box: Box;
}

async function bands(page: Page): Promise<Band[]> {
  return (await drawn(page, 'svg.timeline rect.band')).map(({ data, box }) => ({
    node: data.node,
    instance: data.instance,
    state: data.state,
    start: Number(data.startUs),
    end: Number(data.endUs),
    box,
  }));
}

/** The lane labels drawn level with a box: what a reader sees at the left of a band. */
async function labelsLevelWith(page: Page, b: Box): Promise<string[]> {
  const labels = await drawn(page, 'svg.timeline text.lane-label');
  return labels.filter((l) => l.box.y + l.box.height / 2 > b.y && l.box.y + l.box.height / 2 < b.y + b.height).map((l) => l.text);
}

const clean = (o: Opened): void => {
  expect(o.errors, 'console errors').toEqual([]);
  expect(o.requests, 'network requests').toEqual([]);
  expect(o.dialogs, 'dialogs').toEqual([]);
};

describe.skipIf(!browser)('renderHtml in Chromium', { timeout: 30_000 }, () => {
  it('titles the page with the scenario and the verdict', async () => {
    const o = await view(failover);
    expect(await o.page.title()).toBe('FAIL · failover-basic · keepalived-ts lab');
    expect(await o.page.locator('#verdict').innerText()).toBe('FAIL');
    expect(await o.page.locator('#scenario-name').innerText()).toBe('failover-basic');
    // The whole page renders to an image; LAB_REPORT_PNG=file keeps it for a person to look at.
    await o.page.screenshot({ path: process.env.LAB_REPORT_PNG, fullPage: true });
    clean(o);
  });

  it('draws each lane as bands in time order, at x proportional to time', async () => {
    const o = await view(failover);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    const bs = await bands(o.page);
    expect(bs.length).toBe(4 + 4 + 3 + 2); // lb1 VI_1, lb2 VI_1, lb1 VI_2, lb2 VI_2
    const px = (t: number): number => plot.x + (t / (20 * S)) * plot.width;
    for (const b of bs) {
      expect(b.box.width, `${b.node} ${b.instance} ${b.state}`).toBeGreaterThan(0);
      expect(b.box.x).toBeCloseTo(px(b.start), 0);
      expect(b.box.x + b.box.width).toBeCloseTo(px(b.end), 0);
    }
    for (const lane of new Set(bs.map((b) => `${b.node}/${b.instance}`))) {
      const mine = bs.filter((b) => `${b.node}/${b.instance}` === lane);
      expect(mine[0].box.x).toBeCloseTo(plot.x, 0);
      expect(mine[mine.length - 1].box.x + mine[mine.length - 1].box.width).toBeCloseTo(plot.x + plot.width, 0);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i].start).toBe(mine[i - 1].end);
        expect(mine[i].box.x).toBeGreaterThan(mine[i - 1].box.x);
        expect(mine[i].box.y).toBe(mine[0].box.y); // one lane, one row
      }
    }
    clean(o);
  });

  it('shows mastership of VI_1 moving lb1 → lb2 → lb1 on the lanes labelled so', async () => {
    const o = await view(failover);
    const masters = (await bands(o.page)).filter((b) => b.instance === 'VI_1' && b.state === 'MASTER').sort((a, b) => a.box.x - b.box.x);
    expect(masters.map((b) => [b.node, b.start / S])).toEqual([
      ['lb1', 3.609],
      ['lb2', 8.609],
      ['lb1', 12.5],
    ]);
    for (const b of masters) expect(await labelsLevelWith(o.page, b.box)).toEqual([b.node]);
    // Both lanes of VI_1 sit under the VI_1 heading, above those of VI_2.
    const vi1 = await box(o.page.locator('svg.timeline .instance-label[data-instance="VI_1"]'));
    const vi2 = await box(o.page.locator('svg.timeline .instance-label[data-instance="VI_2"]'));
    for (const b of masters) expect(b.box.y).toBeLessThan(vi2.y);
    expect(vi1.y).toBeLessThan(vi2.y);
    // A band's text says its state where it is wide enough.
    await expect(o.page.locator('svg.timeline text.band-text', { hasText: 'STOPPED' }).first().isVisible()).resolves.toBe(true);
    clean(o);
  });

  it('marks each fault with a numbered line at its time, labelled and listed', async () => {
    const o = await view(failover);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    for (const [index, t, text] of [
      [0, 5, 'kill lb1'],
      [1, 12, 'start lb1'],
    ] as const) {
      const marker = o.page.locator(`svg.timeline g.fault[data-fault-index="${index}"]`);
      const line = await box(marker.locator('line.fault-line'));
      expect(line.x + line.width / 2).toBeCloseTo(plot.x + (t / 20) * plot.width, 0);
      expect(line.y + line.height).toBeGreaterThan(plot.y + plot.height - 1); // crosses every lane
      expect(await marker.locator('text.fault-num').textContent()).toBe(String(index + 1));
      expect(await marker.locator('text.fault-text').textContent()).toBe(text);
      expect(await o.page.locator(`ol.faults li[data-fault-index="${index}"]`).innerText()).toMatch(new RegExp(`${index + 1}\\s*${t}\\.00s\\s*${text}`));
    }
    clean(o);
  });

  it('lines the requests chart up with the timeline and shows the failed seconds', async () => {
    const o = await view(failover);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    const req = await box(o.page.locator('svg.requests rect.plot'));
    expect(req.x).toBeCloseTo(plot.x, 0);
    expect(req.width).toBeCloseTo(plot.width, 0);
    const failed = o.page.locator('svg.requests rect.req-failed');
    expect(await failed.evaluateAll((es) => es.map((e) => Number((e as SVGElement).dataset.second)))).toEqual([5, 6, 7, 8]);
    const first = await box(failed.first());
    expect(first.x).toBeCloseTo(plot.x + (5 / 20) * plot.width, 0);
    expect(first.width).toBeGreaterThan(0);
    const okAt8 = await box(o.page.locator('svg.requests rect.req-ok[data-second="8"]'));
    const failedAt8 = await box(failed.last());
    expect(failedAt8.y + failedAt8.height).toBeCloseTo(okAt8.y, 0); // stacked: 4 failed on 6 ok
    expect(await o.page.locator('#requests tr[data-client="c1"]').innerText()).toMatch(/c1\s+166\s+34\s+5–8s/);
    clean(o);
  });

  it('shows the failed expectation with why it failed, and marks its moment on the axis', async () => {
    const o = await view(failover);
    const failedRow = o.page.locator('tr[data-verdict="fail"]');
    expect(await failedRow.count()).toBe(1);
    expect(await o.page.locator('tr[data-verdict="pass"]').count()).toBe(2);
    await failedRow.scrollIntoViewIfNeeded();
    expect(await failedRow.isVisible()).toBe(true);
    const cells = await failedRow.locator('td').allInnerTexts();
    expect(cells).toEqual([
      '✘',
      'every request of c1 succeeds except within 2s after each fault',
      'c1: 34 requests failed between 5s and 9s; 14 of them more than 2s after kill lb1',
      '7.000s',
      'lab/failover.yaml:36:5',
    ]);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    const at = await box(o.page.locator('svg.timeline g.verdict-at[data-expectation-index="2"]'));
    expect(at.x + at.width / 2).toBeCloseTo(plot.x + (7 / 20) * plot.width, 0);
    expect(await o.page.locator('#transitions tbody tr').count()).toBe(13);
    clean(o);
  });

  it('shades a split brain across the lanes of its instance', async () => {
    const o = await view(splitBrain);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    const shade = await box(o.page.locator('svg.timeline rect.split-brain'));
    // The box includes the outline's stroke: its middle is within a pixel of the times.
    expect(Math.abs(shade.x - (plot.x + (7.6 / 15) * plot.width))).toBeLessThan(1);
    expect(Math.abs(shade.x + shade.width - (plot.x + (9.05 / 15) * plot.width))).toBeLessThan(1);
    for (const b of await bands(o.page)) {
      expect(shade.y).toBeLessThanOrEqual(b.box.y);
      expect(shade.y + shade.height).toBeGreaterThanOrEqual(b.box.y + b.box.height);
    }
    expect(await o.page.locator('#split-brains tbody').innerText()).toMatch(/VI_1\s+51\s+lb1, lb2\s+7\.600s\s+9\.050s\s+1\.450s/);
    expect(await o.page.locator('#verdict').innerText()).toBe('FAIL');
    clean(o);
  });

  it('says why a PASS sits beside a split brain, draws a 100µs one as the legend says, and keeps state labels on top', async () => {
    const o = await view(toleratedSplit);
    expect(await o.page.locator('#verdict').innerText()).toBe('PASS');
    expect(await o.page.locator('.stat.bad').count()).toBe(0);
    expect(await o.page.locator('.stat.tolerated').count()).toBe(2);
    expect(await o.page.locator('#pass-note').innerText()).toBe(
      'PASS: every expectation held. The 2 split brains and 4 failed requests (in amber) happened, and the expectations allow them: add or tighten an expectation if they should fail the run.',
    );
    // The long one hatched, the 100µs one a solid line, and the legend shows both.
    expect(await o.page.locator('svg.timeline rect.split-brain:not(.thin)').count()).toBe(1);
    const thin = await box(o.page.locator('svg.timeline rect.split-brain.thin'));
    expect(thin.width).toBeLessThan(4);
    expect(await o.page.locator('#legend .sw-split-thin').count()).toBe(1);
    // lb2's MASTER label lies inside the long split brain and is painted after (above) its shading.
    const label = o.page.locator('svg.timeline text.band-text[data-node="lb2"]', { hasText: 'MASTER' }).first();
    const shade = o.page.locator('svg.timeline rect.split-brain:not(.thin)');
    const [lb, sb] = [await box(label), await box(shade)];
    expect(lb.x).toBeGreaterThan(sb.x);
    expect(lb.x + lb.width).toBeLessThan(sb.x + sb.width);
    const after = await label.evaluate(
      (t) => !!(document.querySelector('svg.timeline rect.split-brain')!.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING),
    );
    expect(after).toBe(true);
    // The At column says only failures have a moment; the real servers and the backend's note are shown.
    expect(await o.page.locator('#expectations th').allInnerTexts()).toContain('FAILED AT');
    expect((await o.page.locator('tr[data-verdict="pass"] td').allInnerTexts())[3]).toBe('—');
    expect(await o.page.locator('#servers').innerText()).toContain('rs1 (10.0.0.21:80)');
    expect(await o.page.locator('#servers-none').isVisible()).toBe(true);
    expect(await o.page.locator('#notes').innerText()).toContain('keepalived runs VRRP only');
    clean(o);
  });

  it('draws an hour of flapping without losing a band', async () => {
    const o = await view(longRun);
    const plot = await box(o.page.locator('svg.timeline rect.plot'));
    const bs = await bands(o.page);
    expect(bs.filter((b) => b.node === 'lb1')).toHaveLength(2 + 59); // BACKUP, MASTER, then one per fault
    for (const b of bs) {
      expect(b.box.width).toBeGreaterThan(0);
      expect(b.box.x).toBeGreaterThanOrEqual(plot.x - 0.5);
      expect(b.box.x + b.box.width).toBeLessThanOrEqual(plot.x + plot.width + 0.5);
    }
    expect(await o.page.locator('svg.timeline g.fault').count()).toBe(59);
    expect(await o.page.locator('#verdict').innerText()).toBe('PASS');
    clean(o);
  });

  it('shows hostile names as text and runs none of them', async () => {
    const o = await view(hostile);
    expect(await o.page.locator('#scenario-name').innerText()).toBe('<script>alert(1)</script>');
    expect(await o.page.title()).toBe('FAIL · <script>alert(1)</script> · keepalived-ts lab');
    expect(await o.page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await o.page.locator('img').count()).toBe(0);
    expect(await o.page.locator('tr[data-verdict="fail"] td.why').innerText()).toBe('</td></tr></table><script>alert(3)</script>');
    expect(await o.page.locator('ol.faults li[data-fault-index="0"]').innerText()).toContain('kill <b>lb1</b> & \\u202eevil');
    expect(await o.page.locator('#transitions').innerText()).toContain('reason with <img src=x onerror="alert(2)"> and \\x1b[2J\\x1b[31mclear');
    clean(o);
  });
});
