// The real context agent (guest/context-agent/vws-context-agent) run as processes on this host,
// each member under its own --root, against a real service listening on a port: a head and two
// workers get /etc/hosts, known_hosts, authorized_keys and their role's files; a context altered
// on its way is refused and the refusal reported; a service restart in the middle is ridden out.

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { agentCommands, agentConfigText } from '../../src/seed/agent-config.ts';
import { contextWorld, headAndWorkers, type ContextWorld } from './context-world.ts';

const AGENT = fileURLToPath(new URL('../../guest/context-agent/vws-context-agent', import.meta.url));

/** A member's root: its ssh host key made by ssh-keygen, its config (mode 0600), its entries file. */
function memberRoot(w: ContextWorld, server: string, lease: string, member: string, secret: string, ip: string, entries: Record<string, string> | null = {}, provides?: string[]): { root: string; config: string } {
  const root = join(w.dir, member);
  mkdirSync(join(root, 'etc/ssh'), { recursive: true });
  mkdirSync(join(root, 'etc/vws'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${member}`, '-f', join(root, 'etc/ssh/ssh_host_ed25519_key')]);
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
  if (entries) writeFileSync(join(root, 'etc/vws/entries.json'), JSON.stringify(entries));
  const config = join(root, 'etc/vws/context.json');
  writeFileSync(config, agentConfigText({ server, lease, member, secret, hostname: member, ip, publicKey: w.broker.publicKeyPem, entriesFile: '/etc/vws/entries.json', ...(provides ? { provides } : {}) }), { mode: 0o600 });
  return { root, config };
}

function runAgent(m: { root: string; config: string }): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('python3', [AGENT, '--config', m.config, '--root', m.root, '--poll', '0.1', '--timeout', '120']);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');
const modeOf = (root: string, path: string) => statSync(join(root, path)).mode & 0o777;

test('three members (a head and two workers) run the agent: hosts, known_hosts, authorized_keys and role files written, the cluster complete', async () => {
  const w = await contextWorld('sqlite', true);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease));
    const ips: Record<string, string> = { 'head-0': '10.9.0.1', 'worker-0': '10.9.0.2', 'worker-1': '10.9.0.3' };
    const members = [...secrets].map(([m, s]) => [m, memberRoot(w, w.url, lease, m, s, ips[m], m === 'head-0' ? { 'nfs-export': '10.9.0.1:/srv' } : {})] as const);
    const results = await Promise.all(members.map(([, m]) => runAgent(m)));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${members[i][0]}: ${r.stderr}`);
    for (const [name, m] of members) {
      const hosts = read(m.root, 'etc/hosts');
      assert.match(hosts, /^127\.0\.0\.1 localhost\n/, 'lines outside the block are kept');
      for (const [other, ip] of Object.entries(ips)) assert.match(hosts, new RegExp(`^${ip.replaceAll('.', '\\.')} ${other}$`, 'm'));
      const known = read(m.root, 'etc/ssh/ssh_known_hosts');
      for (const [other] of members) {
        const pub = read(join(w.dir, other), 'etc/ssh/ssh_host_ed25519_key.pub').trim().split(' ').slice(0, 2).join(' ');
        assert.ok(known.includes(`${other},${ips[other]} ${pub}`), `${name} knows ${other}'s host key`);
      }
      // ssh itself finds the head's key for the head's name in the file.
      assert.match(execFileSync('ssh-keygen', ['-F', 'head-0', '-f', join(m.root, 'etc/ssh/ssh_known_hosts')]).toString(), /ssh-ed25519/);
      assert.match(read(m.root, 'root/.ssh/authorized_keys'), /ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwner alice@laptop/);
      assert.equal(modeOf(m.root, 'root/.ssh/authorized_keys'), 0o600);
      assert.equal(modeOf(m.root, 'root/.ssh'), 0o700);
      assert.equal(modeOf(m.root, 'var/lib/vws-context/session'), 0o600);
      assert.equal(modeOf(m.root, 'var/lib/vws-context/context.json'), 0o600);
      if (name === 'head-0') {
        assert.equal(read(m.root, 'etc/exports'), '/srv 10.0.0.0/8(rw)\n');
        assert.equal(modeOf(m.root, 'etc/exports'), 0o644);
      } else {
        assert.equal(read(m.root, 'etc/vws/secret.conf'), 'token=abc\n');
        assert.equal(modeOf(m.root, 'etc/vws/secret.conf'), 0o600);
        assert.deepEqual(JSON.parse(read(m.root, 'var/lib/vws-context/context.json')).entries['head.nfs-export'], [{ index: 0, value: '10.9.0.1:/srv' }]);
      }
    }
    const view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
    assert.equal(view.status, 'complete');
    // Run again (a reboot): the session is kept, the block replaced, not doubled.
    const again = await runAgent(members[1][1]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(read(members[1][1].root, 'etc/hosts').split('\n').filter((l) => l.endsWith(' head-0')).length, 1);
  } finally {
    await w.close();
  }
});

/** A proxy to the service that changes one byte of every context on its way (the signature stays). */
function tamperingProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const out = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.url === '/v1/context' && up.statusCode === 200) body = Buffer.from(body.toString().replace('10.9.0.1', '10.6.6.6'));
        res.writeHead(up.statusCode!, { ...up.headers, 'content-length': body.length });
        res.end(body);
      });
    });
    req.pipe(out);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

test('the seed\'s commands fetch the agent from the service as served, and the agent refuses a config others can read', async () => {
  const w = await contextWorld('sqlite', true);
  try {
    const [fetch] = agentCommands(w.url);
    const target = join(w.dir, 'agent');
    // Not execFileSync: the service answering it runs in this process.
    await promisify(execFile)('sh', ['-c', fetch.replace('/usr/local/sbin/vws-context-agent', target)]);
    assert.equal(readFileSync(target, 'utf8'), readFileSync(AGENT, 'utf8'));
    const open = join(w.dir, 'open.json');
    writeFileSync(open, '{}', { mode: 0o644 });
    const r = await runAgent({ root: w.dir, config: open });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /readable by others \(mode 644\): it holds the member's secret; chmod 600 it/);
  } finally {
    await w.close();
  }
});

test('a context altered on its way fails the signature check: the agent writes nothing and reports the failure', async () => {
  const w = await contextWorld('sqlite', true);
  const proxy = await tamperingProxy(w.url);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease, 1));
    const head = memberRoot(w, w.url, lease, 'head-0', secrets.get('head-0')!, '10.9.0.1', { 'nfs-export': '/srv' });
    const worker = memberRoot(w, proxy.url, lease, 'worker-0', secrets.get('worker-0')!, '10.9.0.2');
    const [h, wk] = await Promise.all([runAgent(head), runAgent(worker)]);
    // The head applies its context if it fetched it before the worker's failure failed the cluster.
    assert.ok(h.code === 0 || /can no longer be met: role 'worker' failed/.test(h.stderr), h.stderr);
    assert.equal(wk.code, 1);
    assert.match(wk.stderr, /signature does not verify/);
    assert.equal(read(worker.root, 'etc/hosts'), '127.0.0.1 localhost\n', 'nothing written');
    const view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
    assert.equal(view.status, 'failed');
    assert.match(view.reason, /worker-0 failed: the context's signature does not verify/);
  } finally {
    proxy.server.close();
    await w.close();
  }
});

test('the service restarts while members wait for their context: the agents ride it out and the context completes', async () => {
  const w = await contextWorld('sqlite', true);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease));
    const roots = new Map([...secrets].map(([m, s], i) => [m, memberRoot(w, w.url, lease, m, s, `10.9.0.${i + 1}`, m === 'head-0' ? { 'nfs-export': '/srv' } : {})]));
    const first = [runAgent(roots.get('head-0')!), runAgent(roots.get('worker-0')!)];
    // Both have reported and are polling once the owner's view says so.
    for (let reported = 0; reported < 2;) {
      await new Promise((r) => setTimeout(r, 50));
      const view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
      reported = view.roles[0].reported + view.roles[1].reported;
    }
    await w.restart();
    const last = await runAgent(roots.get('worker-1')!);
    assert.equal(last.code, 0, last.stderr);
    for (const r of await Promise.all(first)) assert.equal(r.code, 0, r.stderr);
    assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body.status, 'complete');
  } finally {
    await w.close();
  }
});

/** An executable hook in a member's /etc/vws/context.d. */
function hook(root: string, name: string, script: string): void {
  mkdirSync(join(root, 'etc/vws/context.d'), { recursive: true });
  writeFileSync(join(root, 'etc/vws/context.d', name), script, { mode: 0o755 });
}

test('a head whose export is made at boot reports once its user-data has written it; hooks run with the verified context, and a failing hook fails the context in its own words', async () => {
  const w = await contextWorld('sqlite', true);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease, 2));
    // No entries file yet: the head's agent waits for it rather than reporting without nfs-export.
    const head = memberRoot(w, w.url, lease, 'head-0', secrets.get('head-0')!, '10.9.0.1', null, ['nfs-export']);
    const good = memberRoot(w, w.url, lease, 'worker-0', secrets.get('worker-0')!, '10.9.0.2');
    const bad = memberRoot(w, w.url, lease, 'worker-1', secrets.get('worker-1')!, '10.9.0.3');
    // The hook reads the export from the context it is handed, as a mount would.
    hook(good.root, '10-mount', '#!/usr/bin/env python3\nimport json, os\nc = json.load(open(os.environ["VWS_CONTEXT"]))\nopen(os.path.join(os.environ["VWS_ROOT"], "mounted"), "w").write(c["entries"]["head.nfs-export"][0]["value"])\n');
    hook(good.root, '.hidden', '#!/bin/sh\nexit 9\n');
    // It fails only once the good worker is done: a failed member fails its whole role (all or
    // nothing), and the good one must have had its context by then.
    const goOn = join(w.dir, 'go-on');
    hook(bad.root, '20-join', `#!/bin/sh\nwhile [ ! -e ${goOn} ]; do sleep 0.1; done\necho "no scheduler at $VWS_ROOT" >&2\nexit 3\n`);
    const running = [runAgent(head), runAgent(good), runAgent(bad)];
    // The head has not reported while its entries file is missing.
    await new Promise((r) => setTimeout(r, 1500));
    const before = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
    assert.equal(before.roles.find((r: { name: string }) => r.name === 'head').reported, 0, JSON.stringify(before));
    // Written in two steps as a boot script might: a half-written file is read again, not refused.
    writeFileSync(join(head.root, 'etc/vws/entries.json'), '{"nfs-ex');
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(head.root, 'etc/vws/entries.json'), JSON.stringify({ 'nfs-export': '10.9.0.1:/srv', extra: 'not declared' }));
    const g = await running[1];
    assert.equal(g.code, 0, g.stderr);
    writeFileSync(goOn, '');
    const [h, , b] = await Promise.all(running);
    assert.equal(read(good.root, 'mounted'), '10.9.0.1:/srv', 'the hook saw the head\'s export');
    assert.equal(b.code, 1);
    assert.match(b.stderr, /hook 20-join exited with 3: no scheduler at/);
    // The head may have finished before worker-1 failed the cluster, or been told it failed.
    assert.ok(h.code === 0 || /role 'worker' failed/.test(h.stderr), h.stderr);
    const view = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body;
    assert.equal(view.status, 'failed');
    assert.match(view.reason, /worker-1 failed: hook 20-join exited with 3/);
  } finally {
    await w.close();
  }
});

test('a role that provides an entry its user-data never writes fails with the entry named, not a bare timeout', async () => {
  const w = await contextWorld('sqlite', true);
  try {
    const lease = await w.aliceLease();
    const secrets = await w.register(headAndWorkers(lease, 1));
    const head = memberRoot(w, w.url, lease, 'head-0', secrets.get('head-0')!, '10.9.0.1', {}, ['nfs-export']);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('python3', [AGENT, '--config', head.config, '--root', head.root, '--poll', '0.1', '--timeout', '1']);
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gave up waiting for this member's entries: \/etc\/vws\/entries\.json does not provide nfs-export yet \(the role's user-data writes them\)/);
  } finally {
    await w.close();
  }
});
