// A Debian guest with Debian's own cloud-init and nothing of vws in it (guest/debian.ts) boots on a
// real node agent from a vws seed, and configures itself from it. The QEMU driver path as the
// service uses it: an AgentDriver whose calls cross a real WebSocket to an in-process NodeAgent
// over a QemuHost that runs QEMU (TCG here) in a network namespace of the test's own, with the
// node's bridge and dnsmasq there; images registered and uploaded through the real API server.
// The seed carries the owner's ssh key, a context broker's bootstrap (the "context agent" is a
// stand-in served in the namespace: what the guest must do is fetch it, check it, and run it
// from the config it was given) and the lease's own user-data. One boot; the test then logs in
// with the owner's key and reads what cloud-init did, and once more after a suspend and resume.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildDebianGuest, type DebianGuest } from '../../guest/debian.ts';
import { NodeAgent } from '../../src/agent/node-agent.ts';
import { QemuHost } from '../../src/agent/qemu-host.ts';
import { waitUntil } from '../../src/agent/network/wait-until.ts';
import { SEED_FILE } from '../../src/agent/seed-volume.ts';
import { bootstrapAdmin } from '../../src/api/auth.ts';
import { buildServer } from '../../src/api/server.ts';
import { CONTEXT_CONFIG } from '../../src/seed/cloud-config.ts';
import { buildSeed } from '../../src/seed/seed.ts';
import { wallClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { configWith } from '../../src/core/config.ts';
import type { VmSpec } from '../../src/drivers/driver.ts';
import { AddressBook } from '../../src/drivers/qemu/address-book.ts';
import { AgentDriver } from '../../src/drivers/qemu/agent-driver.ts';
import { AgentHub } from '../../src/drivers/qemu/agent-hub.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { inNetnsAsync, ip, killAllIn } from '../support/netns.ts';
import { registerImage } from './qemu-pool.ts';
import { runEveryStep } from '../support/teardown.ts';

const NODE = 'node-a';
const IMAGE = 'debian';
const VM_ID = 'deb-1/0';
const VM_DIR = 'deb-1%2f0';
const MAC = '52:54:00:d0:00:01';
const AGENT_PORT = 8099;
/** Guards against a hang only (a guest that never finishes); nothing asserts how fast it was. */
const BOOT_DEADLINE_MS = 10 * 60_000;
/** The stand-in context agent: it proves it ran, as root, from the config the seed wrote (the shipped agent's format: a plain lease's member is its workspace). */
const CONTEXT_AGENT = [
  'import json, os, sys',
  'config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))',
  'with open("/run/vws-context-agent-ran", "w") as f: f.write("%s %s %d" % (config["member"], config["secret"], os.getuid()))',
].join('\n');
const LEASE_USER_DATA = '#!/bin/sh\necho "lease user-data ran" > /root/lease-user-data\n';

interface Setup {
  dir: string;
  netns: string;
  store: Store;
  service: LeaseService;
  serviceDriver: SimulatedDriver;
  app: FastifyInstance;
  hub: AgentHub;
  host: QemuHost;
  agent: NodeAgent;
  contextServer: ChildProcess;
  driver: AgentDriver;
  addresses: AddressBook;
}

let s: Partial<Setup> = {};
let guest: DebianGuest;
let key: string;
let hostname: string;

before(async () => {
  const built = Date.now();
  guest = await buildDebianGuest();
  process.stderr.write(`debian guest ready in ${((Date.now() - built) / 1000).toFixed(1)} s (cached when ~0)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'vws-debian-'));
  s.dir = dir;
  chmodSync(dir, 0o755);
  s.netns = `vws-deb-${process.pid}`;
  ip('netns', 'add', s.netns);
  ip('-n', s.netns, 'link', 'set', 'lo', 'up');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'owner@vws-test', '-f', join(dir, 'owner')]);
  key = readFileSync(join(dir, 'owner.pub'), 'utf8').trim();

  const store = await openSqliteStore(join(dir, 'vws.db'));
  s.store = store;
  const admin = (await bootstrapAdmin(store, wallClock.now()))!;
  const addresses = new AddressBook('10.78.0.0/24', join(dir, 'addresses.json'));
  s.addresses = addresses;
  const hub = new AgentHub({ graceMs: 600_000, callTimeoutMs: 900_000 }, {
    hello: async (node, vms) => {
      s.driver?.nodeReported(node.name, vms);
      return { bridgeAddress: addresses.node(node.name), prefix: addresses.prefix };
    },
    vm: (node, vm) => s.driver?.heard(node, vm),
    timing: () => undefined,
    away: () => undefined,
  });
  s.hub = hub;
  s.serviceDriver = new SimulatedDriver({});
  s.service = await LeaseService.open({ store, driver: s.serviceDriver, clock: wallClock, config: configWith({}) });
  s.app = buildServer({ service: s.service, store, version: 'test', blobDir: join(dir, 'blobs'), now: () => wallClock.now(), agents: hub });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const server = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
  await registerImage(server, admin, 'debian-kernel', guest.kernel);
  await registerImage(server, admin, 'debian-initrd', guest.initrd);
  await registerImage(server, admin, IMAGE, guest.disk, { kernel: 'debian-kernel', initrd: 'debian-initrd', cmdline: guest.cmdline });

  // The stand-in context agent, served where a guest reaches its node: on the bridge's address.
  const bridge = addresses.node(NODE);
  const www = join(dir, 'www');
  mkdirSync(www, { mode: 0o755 });
  writeFileSync(join(www, 'context-agent'), CONTEXT_AGENT, { mode: 0o644 });
  const agentSha256 = createHash('sha256').update(CONTEXT_AGENT).digest('hex');
  hostname = 'head-0';
  s.driver = new AgentDriver({
    hub, store, addresses, stateFile: join(dir, 'driver.json'),
    seedFor: (vm) => buildSeed({
      workspaceId: vm.id, hostname, domain: 'c1.vws.test', nics: [{ name: 'public', mac: vm.mac }], sshKeys: [key],
      broker: { agentUrl: `http://${bridge}:${AGENT_PORT}/context-agent`, agentSha256, serviceUrl: `http://${bridge}:8080`, secret: 'vm-secret-0123456789abcdef', publicKey: 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=' },
      userData: LEASE_USER_DATA,
    }),
  });

  const data = join(dir, 'agent');
  mkdirSync(data, { mode: 0o755 });
  s.host = await QemuHost.open({
    data, server, token: admin, node: { name: NODE, cpu: 2, memoryMiB: 2048, diskMiB: 8192, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' },
    imageCacheMiB: 2048, bridge: 'vwsbr0', netns: s.netns,
  });
  s.agent = new NodeAgent({ server, token: admin, host: s.host, log: (line) => process.stderr.write(`agent: ${line}\n`) });
  s.agent.start();
  await s.agent.connected();
  await waitUntil(() => hub.isConnected(NODE) || undefined, 120_000, () => new Error('the agent did not connect'));
  s.contextServer = spawn('ip', ['netns', 'exec', s.netns, 'busybox', 'httpd', '-f', '-p', `${bridge}:${AGENT_PORT}`, '-h', www], { stdio: 'ignore' });
});

after(async () => {
  const steps: Array<() => unknown> = [
    () => s.driver && s.driver.stop(VM_ID, { graceful: false }),
    () => s.contextServer?.kill('SIGKILL'),
    () => s.agent?.stop(),
    () => s.host?.close(),
    () => s.app?.close(),
    () => s.service?.close(),
    () => s.serviceDriver?.close(),
    () => s.store?.close(),
    () => s.netns && killAllIn(s.netns),
    () => s.netns && ip('netns', 'del', s.netns),
    () => s.dir && rmSync(s.dir, { recursive: true, force: true }),
  ];
  const failures = await runEveryStep(steps);
  s = {};
  assert.deepEqual(failures, [], 'tearing down');
});

test('a stock Debian guest configures itself from its vws seed (hostname, address, owner key, context agent, lease user-data) and keeps it through suspend and resume', async (t) => {
  const { driver, netns, dir } = s as Setup;
  await driver.prepareImage(NODE, IMAGE);
  const vm: VmSpec = { id: VM_ID, leaseId: 'deb-1', index: 0, node: NODE, cpu: 1, memoryMiB: 512, image: IMAGE, mac: MAC };
  const started = Date.now();
  const status = await driver.start(vm);
  assert.equal(status.state, 'running', status.detail);

  const vmDir = join(dir, 'agent', 'vms', VM_DIR);
  assert.equal(statSync(join(vmDir, SEED_FILE)).mode & 0o777, 0o600, 'the seed on the node is root\'s alone');
  const serial = join(vmDir, 'serial.log');
  const finished = await waitUntil(() => {
    const log = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
    return /Cloud-init v\. \S+ finished at .*Up ([0-9.]+) seconds/.exec(log) ?? undefined;
  }, BOOT_DEADLINE_MS, () => new Error(`cloud-init never finished; serial log:\n${existsSync(serial) ? readFileSync(serial, 'utf8').slice(-4000) : '(none)'}`), 500);
  const toFinished = Date.now() - started;
  t.diagnostic(`QEMU start to cloud-init finished: ${(toFinished / 1000).toFixed(1)} s (guest uptime ${finished[1]} s)`);
  assert.match(finished[0], /DataSourceNoCloud/, 'cloud-init took its data from the NoCloud seed');

  const address = (await driver.status()).find((v) => v.id === VM_ID)?.ip;
  assert.equal(address, (s as Setup).addresses.vm(VM_ID), 'the guest took the service\'s address from the node\'s DHCP');
  const ssh = (command: string): Promise<string> => inNetnsAsync(netns, ['ssh', '-i', join(dir, 'owner'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', `root@${address}`, command], 60_000);
  // Logging in with the owner's key is itself the check that the key reached root's authorized_keys.
  const hello = await sshUntil(ssh, 'hostname', 120_000, () => 'could not log in as root with the owner\'s key');
  assert.equal(hello.trim(), hostname);
  assert.equal((await ssh('hostname -f')).trim(), `${hostname}.c1.vws.test`);
  assert.ok((await ssh('cat /root/.ssh/authorized_keys')).split('\n').some((l) => l.trim() === key), 'the owner\'s key is in root\'s authorized_keys as given');
  assert.match(await ssh('ip -4 -o addr show dev public'), new RegExp(` inet ${address!.replace(/\./g, '\\.')}/`), 'the NIC matched by MAC is renamed "public" and has the service\'s address');
  const result = JSON.parse(await ssh('cat /var/lib/cloud/data/result.json')) as { v1: { datasource: string; errors: unknown[] } };
  assert.deepEqual(result.v1.errors, [], 'cloud-init finished without errors');
  assert.match(result.v1.datasource, /NoCloud/);
  assert.equal((await ssh('cat /var/lib/cloud/data/instance-id')).trim(), 'deb-1_2f0', 'the instance-id is the workspace\'s id');
  assert.equal((await ssh(`stat -c '%a %U' ${CONTEXT_CONFIG}`)).trim(), '600 root', 'context reaches the guest readable by root only');
  const ran = await sshUntil(ssh, 'cat /run/vws-context-agent-ran', 120_000, async () => `the context agent never ran: ${await ssh('systemctl status vws-context-agent.service --no-pager || true; tail -20 /var/log/cloud-init-output.log')}`);
  assert.equal(ran, `${VM_ID} vm-secret-0123456789abcdef 0`, 'fetched, checked against its sha256, and run as root from the config the seed wrote');
  assert.equal((await ssh('cat /root/lease-user-data')).trim(), 'lease user-data ran', 'the lease\'s own user-data ran too');

  // Suspended to a file and resumed in a new QEMU, which must find the same seed drive: the guest
  // runs on where it was, with what its seed gave it.
  assert.equal((await driver.suspend(VM_ID)).state, 'suspended');
  assert.equal((await driver.resume(VM_ID)).state, 'running');
  assert.equal(statSync(join(vmDir, SEED_FILE)).mode & 0o777, 0o600);
  assert.equal((await ssh('hostname; cat /run/vws-context-agent-ran')).trim(), `${hostname}\n${VM_ID} vm-secret-0123456789abcdef 0`);
});

/** What `command` printed once it ran, tried every 2 s until `deadlineMs`; else an error saying `why`. */
async function sshUntil(ssh: (command: string) => Promise<string>, command: string, deadlineMs: number, why: () => string | Promise<string>): Promise<string> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await ssh(command);
    } catch {
      if (Date.now() > end) throw new Error(await why());
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
