// npm run bench:dashboard — the dashboard's Gantt at 1,000 nodes × 10,000 leases, in Debian's
// chromium: time from opening /ui to the first drawn slot table (sign-in, GET /v1/slots, indexing,
// drawing), and the time of each draw while the rows scroll, the view zooms and pans. The baseline,
// measured in the same run, is the same page on 10 nodes × 100 leases; ratios are printed and
// written to bench/results/dashboard.json. The aim (issue 20): first render ≤ 1 s, smooth scrolling.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, until } from '../test/web/browser.ts';
import { startServe } from './serve-process.ts';

const root = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-admin';

/**
 * A busy site's week: best-effort leases of one or two VMs, all running at once (their ends
 * spread over hours), advance reservations of 1 to 4 VMs over the next six days, and deadline
 * leases: every lease is planned, so every one is on the slot table.
 */
function spec(i: number, now: number): Record<string, unknown> {
  const duration = 600 + ((i * 7919) % 16) * 600;
  if (i % 10 < 6) return { kind: 'best-effort', nodes: 1 + (i % 2), cpu: 1, memoryMiB: 2048, duration };
  if (i % 10 < 9) return { kind: 'exact', nodes: 1 + (i % 4), cpu: 1 + (i % 4), memoryMiB: 2048, duration, start: now + 600 + ((i * 104_729) % (6 * 86_400)) };
  return { kind: 'deadline', nodes: 1, cpu: 1, memoryMiB: 2048, duration, start: now + 300, deadline: now + 300 + duration * 8 };
}

async function preload(url: string, count: number): Promise<{ seconds: number; refused: number }> {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const now = Math.floor(Date.now() / 1000);
  const t0 = Date.now();
  let refused = 0;
  for (let done = 0; done < count; done += 16) {
    const batch = Array.from({ length: Math.min(16, count - done) }, (_, k) => fetch(`${url}/v1/leases`, { method: 'POST', body: JSON.stringify(spec(done + k, now)), headers }));
    for (const res of await Promise.all(batch)) {
      // A reservation the site has no room for is refused, as it would be: the table is full enough.
      if (res.status !== 201) refused++;
      await res.arrayBuffer();
    }
  }
  return { seconds: (Date.now() - t0) / 1000, refused };
}

async function measure(browser: Browser, url: string) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  try {
    return await measureOn(page, url);
  } finally {
    await page.close();
  }
}

async function measureOn(page: Page, url: string) {
  await page.addInitScript(`sessionStorage.setItem('vws.token', ${JSON.stringify(TOKEN)})`);
  let slotBytes = 0;
  page.on('response', (r) => {
    if (r.url().includes('/v1/slots')) void r.body().then((b) => (slotBytes = Math.max(slotBytes, b.length)), () => {});
  });
  await page.goto(`${url}/ui#/gantt`);
  await until(page, `performance.getEntriesByName('vws-gantt-first-draw').length > 0`, 'the first drawn slot table', 60_000);
  const firstDrawMs = await page.evaluate(`performance.getEntriesByName('vws-gantt-first-draw')[0].startTime`) as number;
  const firstCounts = await page.locator('.gantt-count').innerText();
  // Then the whole week: every lease planned in view (fetch, index and draw them all).
  const t0 = Date.now();
  const fetched = page.waitForResponse((r) => r.url().includes('/v1/slots'), { timeout: 60_000 });
  await page.click('button:has-text("1 week")');
  await (await fetched).finished();
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  const weekMs = Date.now() - t0;
  const counts = await page.locator('.gantt-count').innerText();
  const draws: number[] = [];
  const frame = async () => {
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    draws.push(Number(await page.locator('canvas.gantt-canvas').getAttribute('data-draw-ms')));
  };
  // Scroll down the rows and back, a screenful at a time.
  for (let i = 0; i < 40; i++) {
    await page.evaluate(`document.querySelector('.gantt-scroll').scrollTop += ${i < 20 ? 450 : -450}`);
    await frame();
  }
  // Zoom out to a week and back, and pan.
  for (const label of ['Zoom out', 'Zoom out', 'Zoom out', 'Zoom in', 'Zoom in', 'Zoom in', 'Later', 'Later', 'Earlier', 'Earlier']) {
    await page.click(`button[aria-label="${label}"]`);
    await frame();
  }
  draws.sort((a, b) => a - b);
  const q = (p: number) => draws[Math.min(draws.length - 1, Math.floor(p * draws.length))];
  return { firstCounts, counts, weekMs, firstDrawMs: Math.round(firstDrawMs), slotBytes, draws: draws.length, drawMs: { p50: q(0.5), p95: q(0.95), max: draws[draws.length - 1] }, under16ms: draws.filter((d) => d < 16.7).length };
}

async function runCase(browser: Browser, nodes: number, leases: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vws-bench-ui-'));
  const { proc, url } = await startServe(join(dir, 'data'), nodes, TOKEN);
  try {
    const loaded = await preload(url, leases);
    const m = await measure(browser, url);
    console.log(`${nodes} nodes, ${leases} leases asked (${loaded.refused} refused; preload ${loaded.seconds.toFixed(1)} s): first draw ${m.firstDrawMs} ms (${m.firstCounts} in the opening window); the week with ${m.counts} drawn ${m.weekMs} ms after the click; /v1/slots ${(m.slotBytes / 1e6).toFixed(2)} MB, draw p50 ${m.drawMs.p50} ms p95 ${m.drawMs.p95} ms max ${m.drawMs.max} ms, ${m.under16ms}/${m.draws} draws under 16.7 ms`);
    return { nodes, leasesAsked: leases, preload: loaded, ...m };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const browser = await launch();
try {
  const baseline = await runCase(browser, 10, 100);
  const large = await runCase(browser, 1000, 10_000);
  const ratios = { firstDraw: Math.round((large.firstDrawMs / baseline.firstDrawMs) * 100) / 100, week: Math.round((large.weekMs / baseline.weekMs) * 100) / 100, drawP95: Math.round((large.drawMs.p95 / Math.max(0.1, baseline.drawMs.p95)) * 100) / 100 };
  console.log(`1,000 × 10,000 against 10 × 100: first draw x${ratios.firstDraw}, the week x${ratios.week}, draw p95 x${ratios.drawP95}`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/dashboard.json'), `${JSON.stringify({ aim: 'first render <= 1 s and draws within a frame (16.7 ms) at 1,000 nodes x 10,000 leases', baseline, large, ratios }, null, 2)}\n`);
} finally {
  await browser.close();
}
