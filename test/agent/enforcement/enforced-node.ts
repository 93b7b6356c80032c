// A pool node for the enforcement tests: a QemuHost (cgroups, shapers, QEMU's throttles, as the
// agent runs them) in a network namespace of the test's own (one end of a two-node fabric, so that
// VMs can be live-migrated to the other), serving the test guest's kernel and an
// initrd whose probe installs CGI programs in the guest's web server. The host drives each
// measurement by asking a guest over HTTP, so that two guests can be made to work at the same time:
//   /cgi-bin/work?S     busy-loop S seconds, answer the loops done (the work the guest got)
//   /cgi-bin/fetch?IP   download http://IP/blob, answer "bytes centiseconds"
//   /cgi-bin/read?N     read N MiB of the first disk, uncached, answer "bytes centiseconds"
//   /cgi-bin/fill       write past the end of the first disk, answer what dd said
// Times are the guest's own (/proc/uptime, in hundredths of a second).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildTestGuest } from '../../../guest/build.ts';
import { QemuHost } from '../../../src/agent/qemu-host.ts';
import { openVmCgroups } from '../../../src/agent/cgroups/vm-cgroups.ts';
import type { ImageRef, Workload } from '../../../src/drivers/qemu/protocol.ts';
import type { VmSpec } from '../../../src/drivers/driver.ts';
import { probeInitrd } from '../network/guest-probe.ts';
import { killAllIn } from '../../support/netns.ts';
import { waitFor } from '../../support/wait.ts';

/** `cs`: the guest's uptime in hundredths of a second. */
const CS = 'cs() { awk \'{ printf "%d", $1 * 100 }\' /proc/uptime; }';
const HEADER = 'echo "Content-Type: text/plain"; echo';

const CGI: Record<string, string[]> = {
  // Each loop is the same shell work in every guest; the seconds are the guest's clock, which runs
  // with the host's whatever CPU the guest gets.
  work: [
    'end=$(( $(cut -d. -f1 /proc/uptime) + ${QUERY_STRING:-10} )); n=0',
    'while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do i=0; while [ $i -lt 50 ]; do i=$((i + 1)); done; n=$((n + 1)); done',
    'echo "$n"',
  ],
  fetch: ['s=$(cs); wget -q -O /tmp/got "http://$QUERY_STRING/blob"; e=$(cs)', 'echo "$(wc -c < /tmp/got) $((e - s))"; rm -f /tmp/got'],
  read: [
    'echo 3 > /proc/sys/vm/drop_caches', 'n=${QUERY_STRING:-8}',
    's=$(cs); dd if=/dev/vda of=/dev/null bs=64k count=$((n * 16)) 2>/dev/null; e=$(cs)', 'echo "$((n * 1048576)) $((e - s))"',
  ],
  fill: [
    'mib=$(( $(cat /sys/block/vda/size) / 2048 )); echo "disk $mib MiB"',
    'dd if=/dev/zero of=/dev/vda bs=1M count=$((mib + 8)) conv=fsync 2>&1; echo "rc $?"',
    'dd if=/dev/zero of=/dev/vda bs=1M seek=$mib count=1 conv=fsync 2>&1; echo "rc $?"',
  ],
};

/** The probe: the CGI programs, a blob of `blobMiB` to be fetched, then a line on the console. */
function probeScript(blobMiB: number): string {
  const lines = ['mkdir -p /www/cgi-bin'];
  for (const [name, body] of Object.entries(CGI)) {
    lines.push(`cat > /www/cgi-bin/${name} <<'VWS_EOF'`, '#!/bin/sh', CS, HEADER, ...body, 'VWS_EOF', `chmod +x /www/cgi-bin/${name}`);
  }
  lines.push(`dd if=/dev/zero of=/www/blob bs=64k count=${blobMiB * 16} 2>/dev/null`, 'echo yes > /www/probe-ready', 'echo "VWS-PROBE ready yes"');
  return `${lines.join('\n')}\n`;
}

export interface EnforcedNode {
  /** The images its service serves, by name: nodes that share it take each other's VMs. */
  files: Map<string, string>;
  netns: string;
  name: string;
  host: QemuHost;
  data: string;
  /** A workload for the test guest with this probe, on this node. */
  workload(vm: Omit<VmSpec, 'leaseId' | 'index' | 'node' | 'image'> & { blobMiB: number }, ip: string): Workload;
  /** The body of http://IP/PATH, asked from the node's namespace. */
  get(ip: string, path: string, timeoutMs?: number): Promise<string>;
  /** Waits until the guest at `ip` has its probe ready. */
  ready(ip: string): Promise<void>;
  /** Reopens the host, as a restarted agent does. */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

const BRIDGE_ADDRESS = '10.77.0.1';

/**
 * Node `name` in namespace `netns` (made by the caller, who deletes it after cleanup()), reached by
 * other nodes at `address`, its service serving `files` (another node's, to share its images).
 */
export async function enforcedNode(name: string, netns: string, address: string, files = new Map<string, string>()): Promise<EnforcedNode> {
  const guest = buildTestGuest();
  const dir = mkdtempSync(join(tmpdir(), `vws-enf-${name}-`));
  // dnsmasq runs as nobody and must read its hosts file under the agent's data directory.
  chmodSync(dir, 0o755);
  files.set('kernel', guest.kernel);
  const server: Server = createServer((req, res) => {
    const file = files.get(/^\/v1\/images\/([^/]+)\/content$/.exec(req.url ?? '')?.[1] ?? '');
    if (!file) return void res.writeHead(404).end();
    createReadStream(file).pipe(res.writeHead(200));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ref = (name: string): ImageRef => ({ name, sha256: createHash('sha256').update(readFileSync(files.get(name)!)).digest('hex'), sizeMiB: Math.max(1, Math.ceil(statSync(files.get(name)!).size / 2 ** 20)) });
  const data = join(dir, 'agent');
  const open = async () => {
    const h = await QemuHost.open({
      data, server: url, token: 't', imageCacheMiB: 256, bridge: 'vwsbr0', netns,
      node: { name, cpu: 2, memoryMiB: 2048, diskMiB: 1024, transferAddress: address, migrationAddress: address },
    });
    await h.useNetwork({ bridgeAddress: BRIDGE_ADDRESS, prefix: 24 });
    return h;
  };
  const node: EnforcedNode = {
    files, netns, name, data, host: await open(),
    workload(vm, ip) {
      const { blobMiB, ...spec } = vm;
      const initrd = `initrd-${blobMiB}`;
      if (!files.has(initrd)) files.set(initrd, probeInitrd(probeScript(blobMiB), join(dir, `${initrd}.gz`)));
      const leaseId = spec.id.slice(0, spec.id.lastIndexOf('/'));
      return {
        vm: { ...spec, leaseId, index: 0, node: name, image: null }, ip, disk: null,
        boot: { kernel: ref('kernel'), initrd: ref(initrd), cmdline: guest.cmdline },
      };
    },
    get: (ip, path, timeoutMs = 120_000) => new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', netns, 'busybox', 'wget', '-q', '-O-', `http://${ip}${path}`], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (e, out, err) => (e ? reject(new Error(`GET http://${ip}${path} failed: ${err.trim() || e.message}`)) : resolve(out)));
    }),
    ready: (ip) => waitFor(`the probe of the guest at ${ip}`, () => node.get(ip, '/probe-ready', 10_000).then((b) => b.trim() === 'yes', () => false), { everyMs: 500 }).then(() => undefined),
    async restart() {
      await node.host.close();
      node.host = await open();
    },
    async cleanup() {
      for (const vm of await node.host.status()) await node.host.stop({ id: vm.id, graceful: false }).catch(() => undefined);
      await node.host.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await killAllIn(netns);
      rmSync(dir, { recursive: true, force: true });
      // What a failed test left (its VMs killed with the namespace): the agent's groups go too.
      await openVmCgroups(data, undefined)?.tearDown();
    },
  };
  return node;
}

/** Rate in Mbit/s of "bytes centiseconds". */
export function mbpsOf(answer: string): { bytes: number; mbps: number } {
  const [bytes, cs] = answer.trim().split(/\s+/).map(Number);
  if (!(bytes > 0 && cs > 0)) throw new Error(`not "bytes centiseconds": ${JSON.stringify(answer)}`);
  return { bytes, mbps: (bytes * 8) / (cs / 100) / 1e6 };
}
