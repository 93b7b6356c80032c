import { readFileSync, statfsSync, mkdirSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeAgent } from '../agent/node-agent.ts';
import { QemuHost } from '../agent/qemu-host.ts';
import { numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';

export const AGENT_USAGE = `usage: vws agent --server URL --token T [options]

Runs on a pool node: dials the service, joins its pool, and runs the VMs it is asked to under
QEMU (KVM when /dev/kvm is usable, software emulation otherwise). VMs keep running when the
agent stops or loses the service; a restarted agent adopts them.

  --server URL              the service, http(s)://host:port
  --token T                 an administrator's token (or VWS_AGENT_TOKEN)
  --data DIR                the node's state: VMs, image cache, network (./vws-agent)
  --name NAME               the node's name in the pool (this host's name)
  --cpu N                   CPUs offered to VMs (all of this host's)
  --memory MiB              memory offered to VMs (this host's, less 1 GiB)
  --disk MiB                disk offered to VMs (free space of --data)
  --image-cache MiB         size limit of the image cache (10240)
  --bridge NAME             the bridge the agent owns (vwsbr0)
  --netns NAME              run VMs, bridge and DHCP in this network namespace (tests)
  --transfer-address ADDR   where other agents reach this one with suspended VMs (127.0.0.1)
  --migration-address ADDR  where this node's QEMU listens for live migrations (the transfer address)
  --ca FILE                 trust this CA certificate for an HTTPS service
`;

export async function agentCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        server: { type: 'string' }, token: { type: 'string' }, data: { type: 'string' }, name: { type: 'string' }, cpu: { type: 'string' },
        memory: { type: 'string' }, disk: { type: 'string' }, 'image-cache': { type: 'string' }, bridge: { type: 'string' }, netns: { type: 'string' },
        'transfer-address': { type: 'string' }, 'migration-address': { type: 'string' }, ca: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (!v.server || !/^https?:\/\//.test(v.server)) throw new UsageError(`--server must be the service's http(s)://host:port, got '${v.server ?? ''}'`);
  const token = v.token ?? process.env.VWS_AGENT_TOKEN;
  if (!token) throw new UsageError('--token (or VWS_AGENT_TOKEN) is needed: an administrator\'s token (vws token create)');
  const data = resolve(v.data ?? 'vws-agent');
  mkdirSync(data, { recursive: true });
  const fs = statfsSync(data);
  const transferAddress = v['transfer-address'] ?? '127.0.0.1';
  const host = await QemuHost.open({
    data,
    server: v.server,
    token,
    node: {
      name: v.name ?? hostname(),
      cpu: numberOption('cpu', v.cpu, cpus().length, positive, 'a positive number'),
      memoryMiB: numberOption('memory', v.memory, Math.max(512, Math.floor(totalmem() / 2 ** 20) - 1024), positiveInteger, 'a positive number of MiB'),
      diskMiB: numberOption('disk', v.disk, Math.floor((fs.bavail * fs.bsize) / 2 ** 20), positiveInteger, 'a positive number of MiB'),
      transferAddress,
      migrationAddress: v['migration-address'] ?? transferAddress,
    },
    imageCacheMiB: numberOption('image-cache', v['image-cache'], 10_240, positiveInteger, 'a positive number of MiB'),
    bridge: v.bridge ?? 'vwsbr0',
    netns: v.netns,
  });
  const agent = new NodeAgent({ server: v.server, token, host, ca: v.ca ? readFileSync(v.ca, 'utf8') : undefined });
  agent.start();
  process.stdout.write(`vws agent: node '${host.node().name}' dialling ${v.server} (data ${data}${v.netns ? `, netns ${v.netns}` : ''})\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  await agent.stop();
  await host.close();
  return 0;
}
