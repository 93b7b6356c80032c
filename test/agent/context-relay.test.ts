// The context relay against a real upstream (node:http here, standing in for the service): what
// it forwards of each guest route and what it returns, what it refuses, and how it fails.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ContextRelay, MAX_RELAYED_BODY, RELAYED_ROUTES } from '../../src/agent/context-relay.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An upstream that records what reached it and answers with `answer`. */
async function upstream(t: TestContext, answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

async function relayTo(t: TestContext, url: string, timeoutMs?: number): Promise<string> {
  const relay = await ContextRelay.listen({ upstream: url, ...(timeoutMs ? { timeoutMs } : {}) }, { host: '127.0.0.1', port: 0 });
  t.after(() => relay.close());
  return `http://127.0.0.1:${relay.port}`;
}

test('each guest route is forwarded with its body, authorization and content-type only; the status, body and the three headers come back', async (t) => {
  const up = await upstream(t, (req, res, body) => {
    res.writeHead(req.method === 'GET' ? 202 : 200, {
      'content-type': 'application/json', 'x-vws-signature': 'c2lnbmF0dXJl', 'cache-control': 'no-store', 'x-internal': 'not for guests', 'set-cookie': 'a=b',
    });
    res.end(JSON.stringify({ echoed: `${req.method} ${req.url} ${body}` }));
  });
  const relay = await relayTo(t, up.url);
  for (const [method, path] of RELAYED_ROUTES) {
    const body = method === 'POST' ? JSON.stringify({ lease: 'L1', member: 'worker-0', secret: 's3cret' }) : undefined;
    const res = await fetch(`${relay}${path}`, {
      method,
      headers: { authorization: 'Bearer session-token', 'x-forwarded-for': '6.6.6.6', cookie: 'c=d', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body } : {}),
    });
    assert.equal(res.status, method === 'GET' ? 202 : 200, `${method} ${path}`);
    assert.deepEqual(await res.json(), { echoed: `${method} ${path} ${body ?? ''}` });
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-vws-signature'), 'c2lnbmF0dXJl');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-internal'), null, 'no other header of the service reaches the guest');
    assert.equal(res.headers.get('set-cookie'), null);
    const seen = up.seen.at(-1)!;
    assert.deepEqual([seen.method, seen.url, seen.body], [method, path, body ?? '']);
    assert.equal(seen.headers.authorization, 'Bearer session-token');
    assert.equal(seen.headers['content-type'], body ? 'application/json' : undefined);
    for (const h of ['x-forwarded-for', 'cookie', 'user-agent', 'accept']) assert.equal(seen.headers[h], undefined, `${h} is not forwarded`);
  }
  assert.equal(up.seen.length, RELAYED_ROUTES.length);
});

test('any other path or method is refused with 404 in the API\'s error format, and never reaches the service', async (t) => {
  const up = await upstream(t, (_req, res) => res.end('{}'));
  const relay = await relayTo(t, up.url);
  for (const [method, path] of [['GET', '/v1/leases'], ['DELETE', '/v1/context'], ['POST', '/v1/context/agent'], ['GET', '/v1/context/exchange'], ['GET', '/v1/context/'], ['GET', '/v1/agent'], ['PUT', '/v1/context/report']]) {
    const res = await fetch(`${relay}${path}`, { method });
    assert.equal(res.status, 404, `${method} ${path}`);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'not-found');
    assert.match(body.message, new RegExp(`only the context broker's guest routes .*not ${method} ${path.replace(/\//g, '\\/')}$`));
  }
  assert.equal(up.seen.length, 0);
});

/** POSTs `size` bytes, chunked (no content-length) or declared, with node:http: fetch would not send an unfinished body. */
function post(url: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/context/report`, { method: 'POST', headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': size }) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    // The relay may answer and close before the whole body went out.
    req.on('error', (e) => (e.message.includes('EPIPE') || e.message.includes('ECONNRESET') ? undefined : reject(e)));
    req.end(Buffer.alloc(size, 'x'));
  });
}

test('a body over 64 KiB is refused with 413, declared or not; one of exactly 64 KiB passes', async (t) => {
  const up = await upstream(t, (_req, res, body) => res.end(String(body.length)));
  const relay = await relayTo(t, up.url);
  for (const chunked of [false, true]) {
    const big = await post(relay, MAX_RELAYED_BODY + 1, chunked);
    assert.equal(big.status, 413);
    assert.equal((JSON.parse(big.body) as { code: string }).code, 'too-large');
    const fits = await post(relay, MAX_RELAYED_BODY, chunked);
    assert.deepEqual(fits, { status: 200, body: String(MAX_RELAYED_BODY) });
  }
  assert.equal(up.seen.length, 2, 'only the bodies that fit reached the service');
});

test('an unreachable service is a 502 naming it; one that does not answer in time a 504', async (t) => {
  const gone = await upstream(t, () => undefined);
  const goneUrl = gone.url;
  gone.server.close();
  const relay = await relayTo(t, goneUrl);
  const res = await fetch(`${relay}/v1/context/agent`);
  assert.equal(res.status, 502);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, 'bad-gateway');
  assert.match(body.message, new RegExp(`could not reach the service at ${goneUrl.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));

  const silent = await upstream(t, () => undefined);
  const slow = await relayTo(t, silent.url, 100);
  const late = await fetch(`${slow}/v1/context`, { headers: { authorization: 'Bearer x' } });
  assert.equal(late.status, 504);
  assert.match(((await late.json()) as { message: string }).message, /did not answer GET \/v1\/context within 100 ms/);
});

test('a guest whose request the service holds does not hold up the others', async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const up = await upstream(t, (req, res) => {
    if (req.headers.authorization === 'Bearer slow') void held.then(() => res.end('slow'));
    else res.end('quick');
  });
  const relay = await relayTo(t, up.url);
  const slow = fetch(`${relay}/v1/context`, { headers: { authorization: 'Bearer slow' } });
  // Waits until the held request has reached the service, so the others really come after it.
  while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
  const quick = await Promise.all(Array.from({ length: 20 }, () => fetch(`${relay}/v1/context`, { headers: { authorization: 'Bearer quick' } }).then((r) => r.text())));
  assert.deepEqual(quick, Array(20).fill('quick'));
  release();
  assert.equal(await (await slow).text(), 'slow');
});

test('on a Unix socket (behind a namespace\'s forwarder) it relays the same; a stale socket file is replaced', async (t) => {
  const up = await upstream(t, (_req, res) => res.end('agent text'));
  const dir = mkdtempSync(join(tmpdir(), 'vws-relay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'context-relay.sock');
  const first = await ContextRelay.listen({ upstream: up.url }, { socket });
  // A crashed agent leaves its socket file: the next relay takes its place.
  const second = await ContextRelay.listen({ upstream: up.url }, { socket });
  t.after(async () => {
    await second.close();
    await first.close();
  });
  const text = await new Promise<string>((resolve, reject) => {
    request({ socketPath: socket, path: '/v1/context/agent' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
  assert.equal(text, 'agent text');
});
