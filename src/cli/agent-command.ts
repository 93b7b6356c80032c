import { readFileSync, statfsSync, mkdirSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { NodeAgent } from '../agent/node-agent.ts';
import { QemuHost } from '../agent/qemu-host.ts';
import { nodeReportProblem } from '../drivers/qemu/agent-messages.ts';
import { accelChoice } from '../agent/qemu/accel-probe.ts';
import { agentDial, numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';

/** The options of vws agent by long name, --server and --token (global options) among them, as ./program.ts parsed them. */
export interface AgentOptions {
  server?: string; token?: string; data?: string; name?: string; cpu?: string; memory?: string; disk?: string; bandwidth?: string;
  'image-cache'?: string; bridge?: string; netns?: string; 'transfer-address'?: string; 'migration-address'?: string; underlay?: string; ca?: string;
  'context-relay'?: string; depot?: string; 'pilot-job'?: string; cgroups?: string; 'cgroup-parent'?: string;
}

export async function agentCommand(v: AgentOptions): Promise<number> {
  const { servers, token } = agentDial(v);
  const relay = v['context-relay'] ?? 'on';
  if (relay !== 'on' && relay !== 'off') throw new UsageError(`--context-relay must be on or off, got '${relay}'`);
  const cgroups = v.cgroups ?? 'on';
  if (cgroups !== 'on' && cgroups !== 'off') throw new UsageError(`--cgroups must be on or off, got '${cgroups}'`);
  const parent = v['cgroup-parent'];
  if (parent !== undefined && (cgroups === 'off' || !/^\/[A-Za-z0-9._@:/-]*$/.test(parent) || parent.split('/').some((p) => p === '.' || p === '..'))) {
    throw new UsageError(cgroups === 'off' ? '--cgroup-parent names where VMs\' cgroups go: leave it out with --cgroups off' : `--cgroup-parent must be an absolute path inside the cgroup hierarchies (e.g. /vws.slice), without . or .., got '${parent}'`);
  }
  const data = resolve(v.data ?? 'vws-agent');
  mkdirSync(data, { recursive: true });
  const fs = statfsSync(data);
  const transferAddress = v['transfer-address'] ?? '127.0.0.1';
  const node = {
    name: v.name ?? hostname(),
    cpu: numberOption('cpu', v.cpu, cpus().length, positive, 'a positive number'),
    memoryMiB: numberOption('memory', v.memory, Math.max(512, Math.floor(totalmem() / 2 ** 20) - 1024), positiveInteger, 'a positive number of MiB'),
    diskMiB: numberOption('disk', v.disk, Math.floor((fs.bavail * fs.bsize) / 2 ** 20), positiveInteger, 'a positive number of MiB'),
    ...(v.bandwidth !== undefined ? { bandwidthMbps: numberOption('bandwidth', v.bandwidth, 0, (n) => n > 0, 'a positive number of Mbit/s') } : {}),
    transferAddress,
    migrationAddress: v['migration-address'] ?? transferAddress,
    ...(v.underlay !== undefined ? { underlayAddress: v.underlay } : {}),
    ...(v['pilot-job'] !== undefined ? { pilot: v['pilot-job'] } : {}),
  };
  // Said here rather than by the service at every redial: it would refuse this node's hello.
  const refused = nodeReportProblem(node);
  if (refused) throw new UsageError(`${refused} (--name, --cpu, --memory, --disk, --bandwidth, --transfer-address, --migration-address, --underlay, --pilot-job)`);
  // Probed before the agent dials: the probe blocks for up to its timeout, and a VM's start must not wait on it.
  const accel = accelChoice();
  process.stdout.write(`vws agent: VMs run under ${accel.kvm ? 'KVM' : 'TCG (software emulation)'}: ${accel.reason}\n`);
  const ca = v.ca ? readFileSync(v.ca, 'utf8') : undefined;
  const host = await QemuHost.open({
    data,
    // Image and context requests: any server answers them (a follower forwards to the leader).
    server: servers[0],
    token,
    node,
    imageCacheMiB: numberOption('image-cache', v['image-cache'], 10_240, positiveInteger, 'a positive number of MiB'),
    bridge: v.bridge ?? 'vwsbr0',
    netns: v.netns,
    ...(v.underlay !== undefined ? { underlay: v.underlay } : {}),
    ...(relay === 'on' ? { contextRelay: { ...(ca ? { ca } : {}) } } : {}),
    ...(v.depot !== undefined ? { depot: resolve(v.depot) } : {}),
    cgroups: cgroups === 'off' ? false : { ...(parent !== undefined ? { parent } : {}) },
  });
  if (cgroups === 'off') process.stdout.write('vws agent: --cgroups off: VMs run uncapped (no CPU quota, no memory limit); bandwidth and disk I/O limits still hold\n');
  let leave = (): void => {};
  let handedBack = false;
  const agent = new NodeAgent({ server: servers, token, host, ca, onLeave: () => {
    handedBack = true;
    leave();
  } });
  agent.start();
  process.stdout.write(`vws agent: node '${host.node().name}' dialling ${servers.join(', ')} (data ${data}${v.netns ? `, netns ${v.netns}` : ''}${host.node().depot ? `, depot ${resolve(v.depot!)} id ${host.node().depot}` : ''})\n`);
  await new Promise<void>((done) => {
    leave = done;
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
    // A pilot's job is signalled (sbatch --signal=B:USR1@G) when Slurm preempts it or its limit nears.
    if (node.pilot) process.on('SIGUSR1', () => {
      process.stdout.write('vws agent: the batch system takes the node back (SIGUSR1): telling the service\n');
      agent.leaving();
    });
  });
  await agent.stop();
  // Let go by the service (a pilot's node goes back to the batch system): nothing of ours stays on it.
  if (handedBack) await host.handBack();
  await host.close();
  return 0;
}
