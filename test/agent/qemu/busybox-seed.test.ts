// The busybox test guest finds its cloud-init seed: the agent's `cidata` volume on the read-only
// drive QEMU attaches after the disks, from which the guest takes its hostname (as cloud-init's
// set_hostname would) and serves it; the seed drive is not taken for a scratch disk; and a VM
// saved with the drive attached restores with it (QEMU refuses a state whose drives differ).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeNetwork } from '../../../src/agent/network/node-network.ts';
import { bootVm, restoreVm } from '../../../src/agent/qemu/qemu-vm.ts';
import { SEED_FILE, writeSeedVolume } from '../../../src/agent/seed-volume.ts';
import { plainSeed } from '../../../src/seed/plain-seed.ts';
import { httpGet, sandbox } from '../network/sandbox.ts';
import { waitFor } from '../../support/wait.ts';
import { inNetns } from '../../support/netns.ts';
import { guestVmConfig } from './guest-vm.ts';

test('the busybox guest takes its hostname from its seed, and a saved VM restores with the seed drive', { timeout: 240_000 }, async (t) => {
  const box = sandbox('qseed');
  t.after(() => box.cleanup());
  const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') });
  const mac = '52:54:00:77:05:0a';
  const ip = '10.77.0.20';
  const config = await guestVmConfig(net, box.netns, { dir: box.dir, name: 'seeded', memoryMiB: 128, mac, ip });
  const seed = join(config.dir, SEED_FILE);
  await writeSeedVolume(plainSeed({ id: 'lease-9/3', mac }), seed);
  const vm = await bootVm({ ...config, seed });

  assert.equal((await httpGet(box, ip, '/hostname')).trim(), 'vws-lease-9-3');
  // The guest wrote its files before its HTTP server started: one try is the answer.
  assert.throws(() => inNetns(box.netns, ['busybox', 'wget', '-q', '-O-', `http://${ip}/scratch-mib`]), 'the seed drive is not taken for a scratch disk');
  const counted = await waitFor('the guest to count', async () => Number((await httpGet(box, ip, '/counter')).trim()) > 2 || undefined, { everyMs: 200 });
  assert.ok(counted);

  const file = join(config.dir, 'memory.state');
  await vm.saveTo(file);
  const restored = await restoreVm({ ...config, seed }, file);
  t.after(() => restored.vm.stop(false));
  assert.equal((await httpGet(box, ip, '/hostname')).trim(), 'vws-lease-9-3', 'the restored guest runs on');
});
