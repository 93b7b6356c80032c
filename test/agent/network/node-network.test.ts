// NodeNetwork's life cycle without guests: open is idempotent and adopts a running dnsmasq (the
// agent may have been killed), taps and hosts can be added and removed twice, bad input and failing
// commands say what was wrong, and tearDown leaves nothing behind. Each test has a namespace of its own.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isRunning } from '../../../src/agent/network/processes.ts';
import { NodeNetwork, tapName, type NodeNetworkConfig } from '../../../src/agent/network/node-network.ts';
import { waitUntil } from '../../../src/agent/network/wait-until.ts';
import { sandbox, type Sandbox } from './sandbox.ts';
import { waitFor } from '../../support/wait.ts';

const BRIDGE = 'vwsbr0';

function setUp(t: TestContext, label: string): { box: Sandbox; cfg: NodeNetworkConfig } {
  const box = sandbox(label);
  t.after(() => box.cleanup());
  return { box, cfg: { netns: box.netns, bridge: BRIDGE, gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') } };
}

interface IpLink {
  ifname: string;
  flags: string[];
  master?: string;
  address: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

function links(box: Sandbox): IpLink[] {
  return JSON.parse(box.sh('ip', ['-j', 'addr', 'show'])) as IpLink[];
}

function link(box: Sandbox, name: string): IpLink | undefined {
  return links(box).find((l) => l.ifname === name);
}

function ipv4(l: IpLink | undefined): string[] {
  return (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

function assertNothingLeft(box: Sandbox, cfg: NodeNetworkConfig, pids: number[]): void {
  assert.deepEqual(links(box).map((l) => l.ifname), ['lo'], 'no bridge and no tap left');
  for (const pid of pids) assert.equal(isRunning(pid), false, `dnsmasq ${pid} stopped`);
  for (const f of ['dnsmasq.pid', 'dhcp-hosts', 'dnsmasq.leases']) assert.equal(existsSync(join(cfg.dir, f)), false, `${f} removed`);
}

test('open creates the bridge and dnsmasq; opening again, even after an agent that never closed, adopts them', async (t) => {
  const { box, cfg } = setUp(t, 'open');
  const first = await NodeNetwork.open(cfg);
  const pid = first.dnsmasqPid!;
  assert.ok(isRunning(pid));
  const bridge = link(box, BRIDGE)!;
  assert.ok(bridge.flags.includes('UP'));
  assert.deepEqual(ipv4(bridge), ['10.77.0.1/24']);

  await first.addTap(tapName('vm-1'));
  // `first` is never closed, as when the agent is killed with SIGKILL.
  const second = await NodeNetwork.open(cfg);
  assert.equal(second.dnsmasqPid, pid, 'the running dnsmasq is adopted, not restarted');
  await second.close();
  const third = await NodeNetwork.open(cfg);
  assert.equal(third.dnsmasqPid, pid);
  assert.deepEqual(ipv4(link(box, BRIDGE)), ['10.77.0.1/24'], 'the address is not added twice');
  assert.equal(link(box, tapName('vm-1'))?.master, BRIDGE, 'close and open leave the taps alone');

  await third.tearDown();
  assertNothingLeft(box, cfg, [pid]);
  assert.equal(existsSync(join(cfg.dir, 'dnsmasq.log')), true, 'the log is kept');
});

test('a dead dnsmasq is started again, a stale pid file is not trusted, other settings restart it', async (t) => {
  const { box, cfg } = setUp(t, 'restart');
  const pids = [(await NodeNetwork.open(cfg)).dnsmasqPid!];

  process.kill(pids[0], 'SIGKILL');
  await waitUntil(() => !isRunning(pids[0]), 10_000, () => new Error('dnsmasq survived SIGKILL'));
  const afterCrash = await NodeNetwork.open(cfg);
  pids.push(afterCrash.dnsmasqPid!);
  assert.notEqual(pids[1], pids[0]);
  assert.ok(isRunning(pids[1]));

  // A pid file naming some other live process (pids get reused) must not be adopted or signalled.
  process.kill(pids[1], 'SIGKILL');
  await waitUntil(() => !isRunning(pids[1]), 10_000, () => new Error('dnsmasq survived SIGKILL'));
  writeFileSync(join(cfg.dir, 'dnsmasq.pid'), `${process.pid}\n`);
  const afterStale = await NodeNetwork.open(cfg);
  pids.push(afterStale.dnsmasqPid!);
  assert.ok(![process.pid, ...pids.slice(0, 2)].includes(pids[2]));

  const narrower = await NodeNetwork.open({ ...cfg, prefix: 25 });
  pids.push(narrower.dnsmasqPid!);
  assert.notEqual(pids[3], pids[2], 'a dnsmasq started with another subnet is replaced');
  assert.equal(isRunning(pids[2]), false);
  assert.deepEqual(ipv4(link(box, BRIDGE)), ['10.77.0.1/25'], 'the old address is gone from the bridge');

  await narrower.tearDown();
  assertNothingLeft(box, cfg, pids);
});

test('taps are enslaved and up, adding and removing twice is harmless, and foreign links are refused', async (t) => {
  const { box, cfg } = setUp(t, 'taps');
  const net = await NodeNetwork.open(cfg);
  const tap = tapName(`lease-${process.pid}/0`);
  await net.addTap(tap);
  await net.addTap(tap);
  const l = link(box, tap)!;
  assert.equal(l.master, BRIDGE);
  assert.ok(l.flags.includes('UP'));
  assert.equal(box.sh('ip', ['-d', '-o', 'link', 'show', 'dev', tap]).includes('tun type tap'), true);

  await net.removeTap(tap);
  await net.removeTap(tap);
  assert.equal(link(box, tap), undefined);

  box.sh('ip', ['link', 'add', 'vwtnotatap', 'type', 'bridge']);
  await assert.rejects(net.addTap('vwtnotatap'), /vwtnotatap exists but is a bridge device/);
  await assert.rejects(net.removeTap('vwtnotatap'), /vwtnotatap is a bridge device/);
  await assert.rejects(net.addTap('lease-42/0'), /not a valid Linux interface name/);

  // tearDown takes a vws tap that lost its bridge too, but not devices that are not its own.
  box.sh('ip', ['tuntap', 'add', 'dev', tapName('stray'), 'mode', 'tap']);
  box.sh('ip', ['tuntap', 'add', 'dev', 'othertap', 'mode', 'tap']);
  await net.addTap(tap);
  await net.tearDown();
  assert.deepEqual(links(box).map((x) => x.ifname).sort(), ['lo', 'othertap', 'vwtnotatap']);
});

test('setHost and removeHost keep the hosts file and make dnsmasq reread it; bad input is refused', async (t) => {
  const { cfg } = setUp(t, 'hosts');
  const net = await NodeNetwork.open(cfg);
  const hostsFile = join(cfg.dir, 'dhcp-hosts');
  const rereads = () => readFileSync(join(cfg.dir, 'dnsmasq.log'), 'utf8').split('\n').filter((l) => l.endsWith(`read ${hostsFile}`)).length;
  const entries = () => readFileSync(hostsFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

  // dnsmasq reads the file once as it starts; on a loaded machine it may log that after open() returns.
  await waitFor('dnsmasq to have read its hosts file as it started', () => rereads() >= 1);
  const before = rereads();
  await net.setHost('52:54:00:AB:CD:01', '10.77.0.20', 'vm-1');
  await net.setHost('52:54:00:ab:cd:02', '10.77.0.21');
  assert.deepEqual(entries(), ['52:54:00:ab:cd:01,10.77.0.20,vm-1', '52:54:00:ab:cd:02,10.77.0.21']);
  assert.equal(rereads(), before + 2, 'each change was reread by the running dnsmasq (resolved only after it logged so)');
  await net.setHost('52:54:00:ab:cd:01', '10.77.0.20', 'vm-1');
  assert.equal(rereads(), before + 2, 'an unchanged entry is not reloaded');
  await net.setHost('52:54:00:ab:cd:01', '10.77.0.22');
  assert.deepEqual(entries(), ['52:54:00:ab:cd:02,10.77.0.21', '52:54:00:ab:cd:01,10.77.0.22']);

  await assert.rejects(net.setHost('52:54:00:ab:cd:03', '10.77.0.21'), /10\.77\.0\.21 is already assigned to 52:54:00:ab:cd:02: removeHost/);
  await assert.rejects(net.setHost('52:54:00:ab:cd:03', '10.78.0.5'), /outside the bridge subnet 10\.77\.0\.0\/24/);
  await assert.rejects(net.setHost('52:54:00:ab:cd:03', '10.77.0.1'), /is the gateway/);
  await assert.rejects(net.setHost('52:54:00:ab:cd:03', '10.77.0.255'), /broadcast/);
  await assert.rejects(net.setHost('52:54:00:ab:cd', '10.77.0.30'), /not six hex octets/);
  await assert.rejects(net.setHost('01:54:00:ab:cd:03', '10.77.0.30'), /multicast/);
  await assert.rejects(net.setHost('52:54:00:ab:cd:03', '10.77.0.30', 'bad name'), /not a DNS label/);

  await net.removeHost('52:54:00:AB:CD:01');
  await net.removeHost('52:54:00:ab:cd:01');
  assert.deepEqual(entries(), ['52:54:00:ab:cd:02,10.77.0.21']);

  // After an agent restart the assignments are still there.
  await net.close();
  await assert.rejects(net.setHost('52:54:00:ab:cd:04', '10.77.0.40'), /was closed/);
  const reopened = await NodeNetwork.open(cfg);
  await reopened.setHost('52:54:00:ab:cd:04', '10.77.0.40');
  assert.deepEqual(entries(), ['52:54:00:ab:cd:02,10.77.0.21', '52:54:00:ab:cd:04,10.77.0.40']);
  await reopened.tearDown();
});

test('failures say which command failed and why', async (t) => {
  const { box, cfg } = setUp(t, 'errors');
  const missing = `${box.netns}-missing`;
  await assert.rejects(NodeNetwork.open({ ...cfg, netns: missing }), (e: Error) => {
    assert.match(e.message, new RegExp(`ip -n ${missing} -j -d link show failed`));
    assert.match(e.message, /Cannot open network namespace/);
    return true;
  });

  // A damaged state dir: dnsmasq cannot open its lease file, and its own words reach the caller.
  const damaged = join(box.dir, 'damaged');
  mkdirSync(join(damaged, 'dnsmasq.leases'), { recursive: true });
  chmodSync(damaged, 0o755);
  await assert.rejects(NodeNetwork.open({ ...cfg, dir: damaged }), (e: Error) => {
    assert.match(e.message, /\/usr\/sbin\/dnsmasq .*--interface=vwsbr0.* failed \(exit \d+\)/);
    assert.match(e.message, /dnsmasq: cannot open or create lease file .*dnsmasq.leases: Is a directory/);
    return true;
  });
  const net = await NodeNetwork.open(cfg);

  const hidden = join(box.dir, 'hidden');
  mkdirSync(hidden);
  chmodSync(hidden, 0o700);
  await assert.rejects(NodeNetwork.open({ ...cfg, dir: join(hidden, 'net') }), /hidden is not searchable by others \(chmod o\+x/);
  await assert.rejects(NodeNetwork.open({ ...cfg, gateway: '10.77.0.0' }), /gateway 10\.77\.0\.0 is the network or broadcast address/);
  await assert.rejects(NodeNetwork.open({ ...cfg, bridge: 'a-bridge-name-too-long' }), /not a valid Linux interface name/);
  await net.tearDown();
});
