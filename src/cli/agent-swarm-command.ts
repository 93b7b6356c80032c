// vws agent-swarm: many pool nodes in one process, each a real NodeAgent on its own WebSocket
// speaking the real protocol, with a simulated host behind it (src/agent/simulated-host.ts). What
// it is for is the service's side at scale: hellos after a restart, reconciliation, decisions
// while thousands of agents talk. It says on stdout each time every agent has been welcomed once
// more (the first time, and after each time the service went away and came back).

import { NodeAgent } from '../agent/node-agent.ts';
import { SimulatedHost, TransferExchange } from '../agent/simulated-host.ts';
import { nodeReportProblem } from '../drivers/qemu/agent-messages.ts';
import { MOST_NODES } from '../core/limits.ts';
import { agentDial, numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';

/** The options of vws agent-swarm by long name, --server and --token (global options) among them. */
export interface AgentSwarmOptions {
  server?: string; token?: string; nodes?: string; cpu?: string; memory?: string; disk?: string; 'name-prefix'?: string;
}

/** Agents dial in waves of this many, each once the last is welcomed: 2,000 hellos at once would all wait on the service's first answers. */
const WAVE = 200;

export async function agentSwarmCommand(v: AgentSwarmOptions): Promise<number> {
  const { servers, token } = agentDial(v);
  const server = servers.join(', ');
  const count = numberOption('nodes', v.nodes, 0, (n) => positiveInteger(n) && n <= MOST_NODES, `a whole number from 1 to ${MOST_NODES}`);
  if (count === 0) throw new UsageError('--nodes N is needed: how many simulated nodes to run');
  const prefix = v['name-prefix'] ?? 'swarm-';
  const size = {
    cpu: numberOption('cpu', v.cpu, 4, positive, 'a positive number'),
    memoryMiB: numberOption('memory', v.memory, 8192, positiveInteger, 'a positive number of MiB'),
    diskMiB: numberOption('disk', v.disk, 100_000, positiveInteger, 'a positive number of MiB'),
  };
  const nameOf = (i: number): string => `${prefix}${String(i).padStart(String(count).length, '0')}`;
  // Said once here, for the longest name, rather than by the service refusing every hello.
  const refused = nodeReportProblem({ name: nameOf(count), ...size, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' });
  if (refused) throw new UsageError(`${refused} (--name-prefix, --cpu, --memory, --disk)`);

  const log = throttledLog();
  const welcomes = new Uint32Array(count);
  // welcomedInRound[k]: how many agents have been welcomed at least k+1 times.
  const welcomedInRound: number[] = [];
  const exchange = new TransferExchange();
  const hosts: SimulatedHost[] = [];
  const agents: NodeAgent[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const host = new SimulatedHost({ name: nameOf(i + 1), ...size, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' }, {
      exchange,
      onWelcome: () => {
        const round = welcomes[i]++;
        welcomedInRound[round] = (welcomedInRound[round] ?? 0) + 1;
        if (welcomedInRound[round] === count) announce(round + 1);
      },
    });
    hosts.push(host);
    // NodeAgent follows the leader among the servers.
    agents.push(new NodeAgent({ server: servers, token, host, log: (line) => log(`${host.node().name}: ${line}`) }));
  }
  const announce = (round: number): void => {
    process.stdout.write(`vws agent-swarm: all ${count} agents welcomed (round ${round}, ${((Date.now() - started) / 1000).toFixed(1)} s since start): ${census(hosts).text}\n`);
  };

  process.stdout.write(`vws agent-swarm: ${count} simulated nodes (${size.cpu} CPUs, ${size.memoryMiB} MiB each) dialling ${server}\n`);
  let stopping = false;
  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      stopping = true;
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  for (let from = 0; from < count && !stopping; from += WAVE) {
    const wave = agents.slice(from, from + WAVE);
    for (const a of wave) a.start();
    await Promise.race([Promise.all(wave.map((a) => a.connected())), stopped]);
  }
  await stopped;
  await Promise.all(agents.map((a) => a.stop()));
  const last = census(hosts);
  process.stdout.write(`vws agent-swarm: stopping with ${last.text} on ${last.nodes} nodes\n`);
  return 0;
}

/** The swarm's VMs by state ("5 VMs (4 running, 1 suspended)"), and on how many nodes. */
function census(hosts: readonly SimulatedHost[]): { text: string; nodes: number } {
  const vms: Record<string, number> = {};
  let nodes = 0;
  for (const h of hosts) {
    const counts = Object.entries(h.counts());
    if (counts.length > 0) nodes++;
    for (const [state, n] of counts) vms[state] = (vms[state] ?? 0) + n;
  }
  const total = Object.values(vms).reduce((a, b) => a + b, 0);
  const states = Object.entries(vms).map(([s, n]) => `${n} ${s}`).join(', ');
  return { text: `${total} VMs${states ? ` (${states})` : ''}`, nodes };
}

/**
 * Thousands of agents losing the service at once would print thousands of lines: the first of
 * each second is printed, and how many more there were.
 */
function throttledLog(): (line: string) => void {
  let second = 0;
  let more = 0;
  return (line) => {
    const now = Math.floor(Date.now() / 1000);
    if (now === second) {
      more++;
      return;
    }
    if (more > 0) process.stderr.write(`vws agent-swarm: ... and ${more} more agent messages\n`);
    second = now;
    more = 0;
    process.stderr.write(`${line}\n`);
  };
}
