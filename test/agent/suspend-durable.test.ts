// A suspension is reported only once its saved state would survive a host crash: the memory file
// QEMU wrote is fsynced, then vm.json saying 'suspended' is written and its directory fsynced, and
// only then does the host tell anyone. The VM process is a stand-in (adopted from a directory the
// test lays out); the files and the host are real, and the fsyncs are recorded, then done.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fsSyncer, type Syncer } from '../../src/agent/durable.ts';
import { QemuHost } from '../../src/agent/qemu-host.ts';
import type { VmProcess, VmRuntime } from '../../src/agent/vm-runtime.ts';
import type { Workload } from '../../src/drivers/qemu/protocol.ts';

const ID = 'lease-1#0';
const workload: Workload = {
  vm: { id: ID, leaseId: 'lease-1', index: 0, node: 'n1', cpu: 1, memoryMiB: 64, image: null, mac: '52:54:00:00:00:01' },
  ip: '10.77.0.2', disk: null, boot: null,
};

/** An adoptable VM whose save writes a file, as QEMU's `migrate exec:cat > file` does. */
function runtimeLogging(log: string[]): VmRuntime {
  const proc: VmProcess = {
    onExit: () => undefined,
    stop: async () => undefined,
    saveTo: async (file) => {
      writeFileSync(file, 'guest memory');
      log.push(`saved ${basename(file)}`);
      return { ms: 1, bytes: 12 };
    },
    migrateTo: async () => ({ totalMs: 0, downtimeMs: 0 }),
    release: async () => undefined,
  };
  const unused = async (): Promise<never> => {
    throw new Error('not in this test');
  };
  return { boot: unused, restore: unused, receive: unused, adopt: async () => proc };
}

/** Records each fsync with what vm.json said at that moment, then does it. */
function syncerLogging(log: string[], vmDir: string): Syncer {
  const vmJsonState = () => (JSON.parse(readFileSync(join(vmDir, 'vm.json'), 'utf8')) as { status: { state: string } }).status.state;
  return {
    file: (path) => {
      log.push(`fsync ${basename(path)}`);
      fsSyncer.file(path);
    },
    dir: (path) => {
      log.push(`fsync dir ${path === vmDir ? 'of the VM' : path} (vm.json: ${vmJsonState()})`);
      fsSyncer.dir(path);
    },
  };
}

test('a suspension is reported after its state file and vm.json are fsynced', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'vws-suspend-durable-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const vmDir = join(data, 'vms', 'lease-1%230');
  mkdirSync(vmDir, { recursive: true });
  writeFileSync(join(vmDir, 'vm.json'), JSON.stringify({ workload, status: { id: ID, node: 'n1', state: 'running', ip: workload.ip, console: null } }));
  const log: string[] = [];
  const host = await QemuHost.open({
    data, server: 'http://127.0.0.1:9', token: 't', imageCacheMiB: 16, bridge: 'vwsbr0',
    node: { name: 'n1', cpu: 1, memoryMiB: 512, diskMiB: 1024, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' },
    runtime: runtimeLogging(log), sync: syncerLogging(log, vmDir),
  });
  t.after(() => host.close());
  host.onChange((vm) => log.push(`report ${vm.state}`));
  log.length = 0;

  const status = await host.suspend({ id: ID });
  log.push(`suspend returned ${status.state}`);

  // Only the steps from the save on: vm.json's own earlier writes ('suspending') are fsynced too.
  const fromSave = log.slice(log.indexOf('saved memory.state'));
  assert.deepEqual(fromSave, [
    'saved memory.state',
    'fsync memory.state',
    'fsync vm.json.tmp',
    'fsync dir of the VM (vm.json: suspended)',
    'report suspended',
    'suspend returned suspended',
  ]);
});
