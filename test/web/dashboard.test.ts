// The dashboard in a real browser (Debian's chromium through playwright-core) against a real
// `vws serve`: signing in, leases appearing live, an advance reservation quoted and committed from
// the form and the best-effort lease it preempts shown suspended, the administrator's views, and
// axe-core's accessibility check. Screenshots go to artifacts/dashboard/.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiCall, BOOTSTRAP_TOKEN, freePort, type RealServer, startServer } from '../cli/client/real-server.ts';
import { launch, screenshot, seriousViolations, signIn, until } from './browser.ts';

const dirs: string[] = [];
const servers: RealServer[] = [];
let browser: Browser;

async function site(nodes = 3): Promise<{ server: RealServer; alice: string; bob: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-ui-'));
  dirs.push(dir);
  const server = await startServer(join(dir, 'data'), await freePort(), ['--nodes', String(nodes), '--node-cpu', '4', '--node-memory', '4096']);
  servers.push(server);
  const token = async (name: string) => {
    assert.equal((await apiCall(server, BOOTSTRAP_TOKEN, 'POST', '/v1/users', { name })).status, 201);
    const made = await apiCall(server, BOOTSTRAP_TOKEN, 'POST', `/v1/users/${name}/tokens`, { label: 'dashboard test' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body.token as string;
  };
  return { server, alice: await token('alice'), bob: await token('bob') };
}

async function lease(server: RealServer, token: string, spec: Record<string, unknown>): Promise<string> {
  const r = await apiCall(server, token, 'POST', '/v1/leases', spec);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.lease.id as string;
}

/** An instant as an <input type="datetime-local" step="1"> takes it, in the page's own time zone. */
// A string, not a function: tsx would name the function's helpers, which the page does not have.
const localInput = (page: Page, t: number): Promise<string> => page.evaluate(`(() => {
  const d = new Date(${t} * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
})()`);

/** A GET of a path exactly as written: fetch would resolve its dot segments first. */
function rawGet(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

async function workspaceNode(server: RealServer, token: string, id: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const r = await apiCall(server, token, 'GET', `/v1/leases/${id}`);
    const node = r.body.workspaces?.[0]?.node as string | undefined;
    if (node) return node;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`lease ${id} has no workspace on a node after 10 s`);
}

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the dashboard loads only from its own origin, under a policy that allows nothing else; a wrong token is refused saying so', async () => {
  const { server, alice } = await site();
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const res = await page.goto(`${server.url}/ui`);
  assert.match(res!.headers()['content-security-policy'], /default-src 'none'; script-src 'self'/);
  await page.fill('#token', 'vws_not-a-token');
  await page.click('button[type=submit]');
  assert.match(await page.locator('[role=alert]').innerText(), /token/i);
  await page.fill('#token', alice);
  await page.click('button[type=submit]');
  await page.waitForSelector('canvas.gantt-canvas');
  assert.match(await page.locator('header .who').innerText(), /^alice$/);
  assert.deepEqual(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:')), [], 'every request stays on the service\'s origin');
  // Only the bundle's own files are served: nothing under /ui is read from a path in the URL.
  for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/app.js.map', '/ui/dist/app.js', '/ui//etc/passwd']) {
    assert.notEqual(await rawGet(server.url, path), 200, path);
  }
  await page.close();
});

test('leases made through the API appear live in the list and on the slot table; another user\'s show as busy, without their ids', async () => {
  const { server, alice, bob } = await site();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, server.url, alice);
  await page.click('a[href="#/leases"]');
  await page.waitForSelector('text=No leases yet');
  const mine = await lease(server, alice, { kind: 'best-effort', nodes: 1, cpu: 2, memoryMiB: 1024, duration: 3600 });
  const theirs = await lease(server, bob, { kind: 'best-effort', nodes: 1, cpu: 2, memoryMiB: 1024, duration: 3600 });
  // No reload: the event stream brings them.
  await page.waitForSelector(`tr[data-lease="${mine}"][data-status="running"]`);
  assert.equal(await page.locator(`tr[data-lease="${theirs}"]`).count(), 0, 'bob\'s lease is not alice\'s to list');
  await page.click('a[href="#/gantt"]');
  await page.click('details.gantt-text summary');
  await page.waitForSelector(`li[data-lease="${mine}"]`);
  const items = await page.locator('[data-testid=gantt-leases] li').allInnerTexts();
  assert.equal(items.length, 2, items.join('\n'));
  assert.ok(items.some((t) => t.startsWith(`${mine} (best-effort, running) on sim-`)), items.join('\n'));
  assert.ok(items.some((t) => t.startsWith("another user's lease (best-effort, running)")), items.join('\n'));
  assert.ok(!items.join('\n').includes(theirs), 'bob\'s lease id is not shown to alice');
  const third = await lease(server, alice, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 512, duration: 600 });
  await page.waitForSelector(`li[data-lease="${third}"]`);
  console.log(`screenshot: ${await screenshot(page, 'live-leases')}`);
  await page.close();
});

test('an advance reservation quoted and committed from the form preempts a best-effort lease, which the slot table then shows suspended', async () => {
  const { server, alice } = await site(3);
  const be = await lease(server, alice, { kind: 'best-effort', nodes: 3, cpu: 4, memoryMiB: 1024, duration: 7200 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await signIn(page, server.url, alice);
  await page.click('a[href="#/new"]');
  await page.selectOption('label:has-text("Kind") select', 'exact');
  await page.fill('label:has-text("Nodes") input', '3');
  await page.fill('label:has-text("CPUs per node") input', '4');
  await page.fill('label:has-text("Memory per node") input', '1024');
  await page.fill('label:has-text("Duration") input', '10');
  // Soon enough that the suspension it needs happens while the test watches.
  const start = Math.floor(Date.now() / 1000) + 45;
  await page.fill('label:has-text("Start") input', await localInput(page, start));
  await page.click('button:has-text("Quote")');
  const quote = page.locator('[data-testid=quote]');
  await quote.waitFor();
  const said = await quote.innerText();
  assert.match(said, /^Possible: from /, said);
  assert.match(said, new RegExp(`It would preempt ${be} \\(suspend\\)`), said);
  console.log(`screenshot: ${await screenshot(page, 'quote-preempts')}`);
  await page.click('button:has-text("Commit")');
  const made = await page.locator('[data-testid=outcome]').innerText();
  const ar = /Lease (\S+) made: scheduled\./.exec(made)?.[1];
  assert.ok(ar, made);
  await page.click('a[href="#/gantt"]');
  await page.click('details.gantt-text summary');
  // The best-effort lease is suspended for real when the reservation nears (the simulated driver's VMs).
  await page.waitForSelector(`li[data-lease="${be}"][data-status="suspended"]`, { timeout: 150_000 });
  const text = await page.locator(`li[data-lease="${be}"]`).innerText();
  assert.match(text, /run \d\d:\d\d:\d\d–\d\d:\d\d:\d\d; suspend \d\d:\d\d:\d\d–\d\d:\d\d:\d\d/, text);
  await page.waitForSelector(`li[data-lease="${ar}"]`);
  await page.click('button:has-text("1 h")');
  console.log(`screenshot: ${await screenshot(page, 'preempted-suspended')}`);
  const rows = await apiCall(server, alice, 'GET', `/v1/leases/${be}`);
  assert.equal(rows.body.status, 'suspended');
  await page.close();
});

test('an administrator drains a node and live-migrates a lease from the dashboard', async () => {
  const { server, alice } = await site(3);
  const id = await lease(server, alice, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 512, duration: 3600 });
  const from = await workspaceNode(server, alice, id);
  // A lease is migrated once it runs: in the second it starts, the service refuses, saying so (CI met it).
  const started = (await apiCall(server, alice, 'GET', `/v1/leases/${id}`)).body.actualStart as number;
  while (Math.floor(Date.now() / 1000) <= started) await new Promise((r) => setTimeout(r, 100));
  const to = ['sim-1', 'sim-2', 'sim-3'].find((n) => n !== from)!;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, server.url, BOOTSTRAP_TOKEN);
  await page.goto(`${server.url}/ui#/leases/${id}`);
  await page.fill('#migrate-to', to);
  await page.click('button:has-text("Migrate")');
  assert.equal(await page.locator('p[role=status]').innerText(), 'migration asked');
  await page.waitForSelector(`tr[data-workspace="0"][data-node="${to}"]`);
  const other = ['sim-1', 'sim-2', 'sim-3'].find((n) => n !== to)!;
  await page.click('a[href="#/nodes"]');
  await page.click(`button:has-text("Drain ${other}")`);
  await page.waitForSelector(`tr[data-node="${other}"] >> text=draining`);
  console.log(`screenshot: ${await screenshot(page, 'nodes')}`);
  let nodes = await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/nodes');
  assert.equal(nodes.body.nodes.find((n: { id: string }) => n.id === other).status, 'draining');
  // Removing asks first.
  page.once('dialog', (d) => void d.accept());
  await page.click(`button:has-text("Remove ${other}")`);
  await page.waitForSelector(`p[role=status] >> text=${other}: removed`);
  nodes = await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/nodes');
  assert.ok(!nodes.body.nodes.some((n: { id: string; status: string }) => n.id === other && n.status !== 'removed'), JSON.stringify(nodes.body.nodes));
  assert.equal(await workspaceNode(server, alice, id), to);
  await page.close();
});

test('an administrator runs the site\'s history under another policy: the figures side by side, both schedules on one time axis', async () => {
  const { server, alice } = await site(3);
  const be = await lease(server, alice, { kind: 'best-effort', nodes: 3, cpu: 4, memoryMiB: 1024, duration: 3600 });
  await lease(server, alice, { kind: 'exact', nodes: 3, cpu: 4, memoryMiB: 1024, duration: 600, start: Math.floor(Date.now() / 1000) + 600 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await signIn(page, server.url, BOOTSTRAP_TOKEN);
  await page.click('a[href="#/what-if"]');
  const policy = page.locator('#policy');
  await until(page, 'document.querySelector("#policy")?.value.includes("vws.terms")', 'the site\'s terms in the form');
  const figure = async (name: string) => page.locator(`[data-testid=what-if-figures] tr:has(th:text-is("${name}")) td`).allInnerTexts();
  await page.click('button:has-text("Run the history under it")');
  await page.waitForSelector('[data-testid=what-if-figures]');
  assert.deepEqual(await figure('suspensions'), ['1', '1'], 'under its own terms, the history as it ran: the reservation suspends the lease');
  assert.deepEqual(await figure('leases'), ['2', '2']);
  const text = await policy.inputValue();
  assert.match(text, /"how": "suspend"/);
  await policy.fill(text.replace('"how": "suspend"', '"how": "requeue"'));
  await page.click('button:has-text("Run the history under it")');
  await until(page, '[...document.querySelectorAll("[data-testid=what-if-figures] tr")].some((tr) => tr.textContent.startsWith("suspensions") && tr.textContent.endsWith("0"))', 'the figures under requeue');
  assert.deepEqual(await figure('suspensions'), ['1', '0'], 'under requeue, the lease starts again instead');
  assert.equal(await page.locator('canvas.gantt-canvas').count(), 2, 'both schedules are drawn');
  const labels = await page.locator('section.gantt').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(labels, ['The schedule as it ran', 'The schedule under the policy document']);
  // One time axis: panning one pans the other.
  const ranges = () => page.locator('.gantt-range').allInnerTexts();
  const before = await ranges();
  assert.equal(before[0], before[1]);
  await page.locator('button[aria-label="Later"]').first().click();
  const after = await ranges();
  assert.equal(after[0], after[1]);
  assert.notEqual(after[0], before[0]);
  await policy.fill('{ not json');
  await page.click('button:has-text("Run the history under it")');
  assert.match(await page.locator('[role=alert]').innerText(), /The policy document is not JSON/);
  await policy.fill(text.replace('"how": "suspend"', '"how": "sometimes"'));
  await page.click('button:has-text("Run the history under it")');
  assert.match(await page.locator('[role=alert]').innerText(), /body\.terms\.preemption\.how/);
  console.log(`screenshot: ${await screenshot(page, 'what-if')}`);
  assert.ok(be);
  await page.close();
});

test('axe-core finds no serious or critical accessibility violation on any view', async () => {
  const { server, alice } = await site();
  const id = await lease(server, alice, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 512, duration: 3600 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const found: Record<string, unknown> = {};
  await page.goto(`${server.url}/ui`);
  found['sign-in'] = await seriousViolations(page);
  await page.fill('#token', BOOTSTRAP_TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('canvas.gantt-canvas');
  for (const [name, hash, ready] of [
    ['slot table', '#/gantt', 'canvas.gantt-canvas'], ['leases', '#/leases', `tr[data-lease="${id}"]`], ['lease', `#/leases/${id}`, '[data-testid=lease-status]'],
    ['new lease', '#/new', 'button:has-text("Quote")'], ['nodes', '#/nodes', 'tr[data-node="sim-1"]'], ['what if', '#/what-if', '#policy'],
  ]) {
    await page.goto(`${server.url}/ui${hash}`);
    await page.waitForSelector(ready);
    if (name === 'new lease') {
      await page.click('button:has-text("Quote")');
      await page.locator('[data-testid=quote]').waitFor();
    }
    if (name === 'what if') {
      await page.click('button:has-text("Run the history under it")');
      await page.waitForSelector('[data-testid=what-if-figures]');
    }
    found[name] = await seriousViolations(page);
  }
  console.log(`screenshot: ${await screenshot(page, 'axe-last-view')}`);
  assert.deepEqual(Object.fromEntries(Object.entries(found).filter(([, v]) => (v as unknown[]).length > 0)), {});
  await page.close();
});
