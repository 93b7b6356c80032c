// The relay as the agent's host runs it (vws agent --netns, as tests run agents): opened with the
// host, forwarding to its --server inside the namespace, and gone with the host.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeContextRelay } from '../../src/agent/context-relay-node.ts';
import { QemuHost } from '../../src/agent/qemu-host.ts';
import { CONTEXT_RELAY_PORT } from '../../src/drivers/qemu/protocol.ts';
import { ip, killAllIn } from '../support/netns.ts';

/** GET inside the namespace, without blocking this process (the upstream and the relay live here). */
const getIn = (ns: string, url: string): Promise<string> =>
  new Promise((resolve, reject) => execFile('ip', ['netns', 'exec', ns, 'busybox', 'wget', '-q', '-O-', url], { timeout: 30_000 }, (e, out, err) => (e ? reject(new Error(`GET ${url} in ${ns}: ${err || e.message}`)) : resolve(out))));

const pidsIn = (ns: string): string[] => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);

test('a host opened with the context relay answers in its namespace on the relay port, forwarding to its server; closing it stops the forwarder', { timeout: 60_000 }, async (t) => {
  const ns = `vws-crh-${process.pid}`;
  const data = mkdtempSync(join(tmpdir(), 'vws-crh-'));
  chmodSync(data, 0o755);
  const upstream = createServer((req, res) => res.end(`service ${req.url}`));
  t.after(async () => {
    upstream.close();
    await killAllIn(ns).catch(() => undefined);
    ip('netns', 'del', ns);
    rmSync(data, { recursive: true, force: true });
  });
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const host = await QemuHost.open({
    data, server: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, token: 't', imageCacheMiB: 16, bridge: 'vwsbr0', netns: ns,
    node: { name: 'n1', cpu: 1, memoryMiB: 512, diskMiB: 1024, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' },
    contextRelay: {},
  });
  assert.equal(await getIn(ns, `http://127.0.0.1:${CONTEXT_RELAY_PORT}/v1/context/agent`), 'service /v1/context/agent');
  assert.equal(pidsIn(ns).length, 1, 'the forwarder runs in the namespace');
  await host.close();
  assert.deepEqual(pidsIn(ns), [], 'nothing of the relay is left in the namespace');
});

test('a relay port already taken in the namespace is refused at start with the forwarder\'s own words', { timeout: 60_000 }, async (t) => {
  const ns = `vws-crt-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'vws-crt-'));
  t.after(async () => {
    await killAllIn(ns).catch(() => undefined);
    ip('netns', 'del', ns);
    rmSync(dir, { recursive: true, force: true });
  });
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  const squatter = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', `require('node:net').createServer().listen(${CONTEXT_RELAY_PORT}, '0.0.0.0', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => squatter.kill('SIGKILL'));
  await new Promise<void>((resolve) => squatter.stdout.once('data', () => resolve()));
  await assert.rejects(NodeContextRelay.start({ server: 'http://127.0.0.1:9', netns: ns, dir }), /forwarder in vws-crt-\d+ exited as it started; its log .* cannot listen on 0\.0\.0\.0:8775: .*EADDRINUSE/);
});
