// The commands that run here rather than call a server: serve, agent, sim and demo. Only their
// options are described here; their code is loaded when one runs.

import { type Command, Option } from 'commander';
import { PRESET_NAMES } from '../core/presets.ts';
import { PREEMPTION_POLICIES } from '../core/preemption-policy.ts';
import { DEFAULT_DRIVER, DRIVERS } from '../drivers/registry.ts';
import { IMAGE_CHOICES } from '../sim/image-assignment.ts';
import { FRONT_POLICIES } from '../sim/cells.ts';
import type { Leaf } from './values.ts';
import type { AgentOptions } from './agent-command.ts';
import type { AgentSwarmOptions } from './agent-swarm-command.ts';
import type { ServeOptions } from './serve-command.ts';
import type { SimOptions } from './sim-command.ts';
import type { SimPilotsOptions } from './sim-pilots-command.ts';

const opt = (flags: string, description: string, group?: string): Option => {
  const o = new Option(flags, description);
  return group ? o.helpGroup(group) : o;
};

function addServe(program: Command, leaf: Leaf): void {
  leaf(program, 'serve', 'run the workspace service (REST API, store, control loop)', async () => {
    const { serveCommand } = await import('./serve-command.ts');
    return ({ values }) => serveCommand(values as ServeOptions);
  })
    .addOption(opt('--listen <HOST:PORT>', 'where to listen (127.0.0.1:8080)'))
    .addOption(opt('--data <DIR>', 'data directory: SQLite store, image blobs, driver state (./vws-data)'))
    .addOption(opt('--store <URL>', 'postgres://user@host:port/db to share one store between servers: one leads, the others forward to it (default: SQLite in --data)'))
    .addOption(opt('--advertise <URL>', "with a shared --store, this server's URL as the other servers reach it when it leads (the listen URL)"))
    .addOption(opt('--name <NAME>', 'with a shared --store, this server\'s name in the leadership and in GET /v1/health (HOST:PID)'))
    .addOption(opt('--terms <FILE>', "the site's terms (docs/terms.md): kinds offered and to whom, limits, prices, scheduling; put in force at start"))
    .addOption(opt('--driver <NAME>', `where VMs run (${DEFAULT_DRIVER}): ${DRIVERS.map((d) => `${d.name}: ${d.summary}`).join('; ')}`))
    .addOption(opt('--burst-to <NAME>', 'a second back-end that brings its own capacity (ec2): leases run there when the pool cannot meet their start (docs/backends.md)'))
    .addOption(opt('--burst-after <SECONDS>', 'with --burst-to, how long a best-effort lease may wait on the pool before it bursts (0)'))
    .addOption(opt('--vm-network <CIDR>', 'with --driver qemu, the network VMs get their addresses from (10.77.0.0/24)'))
    .addOption(opt('--cluster-network <CIDR>', "with --driver qemu, the private range cut into each cluster's /24 (10.200.0.0/16)"))
    .addOption(opt('--ec2-config <FILE>', "with --driver ec2, the site's EC2 region, instance types, AMIs and accounts (JSON; docs/ec2-backend.md)"))
    .addOption(opt('--pilot-config <FILE>', "with --driver pilot, the site's pilot policy: Slurm partition, pilots, time limits, and how nodes run vws agent (JSON; docs/pilots.md)"))
    .addOption(opt('--guest-url <URL>', "the service's URL as guests reach it, put in cluster members' seeds for their context agent (the listen URL)"))
    .addOption(opt('--nodes <N>', 'on an empty pool, add N simulated nodes (0)'))
    .addOption(opt('--node-cpu <C>', 'their CPUs (4)'))
    .addOption(opt('--node-memory <MiB>', 'their memory (8192)'))
    .addOption(opt('--node-bandwidth <MBIT>', 'the network bandwidth each leases to its VMs, Mbit/s (none: not leased)'))
    .addOption(opt('--tls-cert <FILE>', 'serve HTTPS with this certificate ...'))
    .addOption(opt('--tls-key <FILE>', '... and key'))
    .addOption(opt('--ec2-listen <HOST:PORT>', 'also answer the EC2 Query API at http://HOST:PORT/ec2 (off unless given; docs/ec2.md)'))
    .addOption(opt('--ec2-region <NAME>', 'the region EC2 clients sign for (vws)'))
    .addOption(opt('--ec2-instance-types <FILE>', 'JSON {"TYPE": {"cpu": N, "memoryMiB": N}, ...} replacing the built-in instance types'))
    .addOption(opt('--ec2-lease-seconds <S>', 'how long a RunInstances lease lasts, as EC2 instances name no end (86400)'))
    .addHelpText('after', '\nOn an empty store the first admin token is VWS_BOOTSTRAP_TOKEN if set, else a new one, printed once.\nEC2 access keys: POST /v1/users/{name}/ec2-credentials; then aws ec2 ... --endpoint-url http://HOST:PORT/ec2 --region vws.');
}

function addAgent(program: Command, leaf: Leaf): void {
  leaf(program, 'agent', 'run a pool node: dial the service and run its VMs under QEMU', async () => {
    const { agentCommand } = await import('./agent-command.ts');
    return ({ values }) => agentCommand(values as AgentOptions);
  })
    .addOption(opt('--data <DIR>', "the node's state: VMs, image cache, network (./vws-agent)"))
    .addOption(opt('--name <NAME>', "the node's name in the pool (this host's name)"))
    .addOption(opt('--cpu <N>', "CPUs offered to VMs (all of this host's)"))
    .addOption(opt('--memory <MiB>', "memory offered to VMs (this host's, less 1 GiB)"))
    .addOption(opt('--disk <MiB>', 'disk offered to VMs (free space of --data)'))
    .addOption(opt('--bandwidth <MBIT>', 'network bandwidth leased to VMs, Mbit/s: leases asking for bandwidthMbps share it (none: not leased)'))
    .addOption(opt('--image-cache <MiB>', 'size limit of the image cache (10240)'))
    .addOption(opt('--bridge <NAME>', 'the bridge the agent owns (vwsbr0)'))
    .addOption(opt('--netns <NAME>', 'run VMs, bridge and DHCP in this network namespace (tests)'))
    .addOption(opt('--transfer-address <ADDR>', 'where other agents reach this one with suspended VMs (127.0.0.1)'))
    .addOption(opt('--migration-address <ADDR>', "where this node's QEMU listens for live migrations (the transfer address)"))
    .addOption(opt('--underlay <IP>', "this node's IPv4 address for cluster networks' VXLAN traffic (none: the node runs no cluster members)"))
    .addOption(opt('--ca <FILE>', 'trust this CA certificate for an HTTPS service'))
    .addOption(opt('--context-relay <on|off>', "relay cluster members' context requests to the service, on port 8775 of their cluster's context address (on)"))
    .addOption(opt('--pilot-job <ID>', 'the batch job (a Slurm job id) whose pilot runs this agent: the node leaves the pool when the job ends, and SIGUSR1 says the batch system takes it back (none)'))
    .addOption(opt('--depot <DIR>', 'a directory the nodes share: suspended VMs are parked there, to be resumed on any node sharing it (none)'))
    .addOption(opt('--cgroups <on|off>', "hold each VM's QEMU to its lease's CPUs and memory in cgroups of its own (on; off: uncapped, for hosts without writable cgroups)"))
    .addOption(opt('--cgroup-parent <PATH>', "the cgroup VMs' groups go under, in each hierarchy (the agent's own); under cgroup v2 one without processes of its own, e.g. a delegated slice"))
    .addHelpText('after', `
Needs --server URL (the service, http(s)://host:port) and --token T (an administrator's token, or
VWS_AGENT_TOKEN). Runs VMs under QEMU (KVM when a probe guest runs under it, software emulation
otherwise; VWS_ACCEL=kvm|tcg decides instead); they keep running when the agent stops or loses the
service, and a restarted agent adopts them.`);
}

function addAgentSwarm(program: Command, leaf: Leaf): void {
  leaf(program, 'agent-swarm', 'run many simulated pool nodes in one process, each a real agent on its own connection (scale tests)', async () => {
    const { agentSwarmCommand } = await import('./agent-swarm-command.ts');
    return ({ values }) => agentSwarmCommand(values as AgentSwarmOptions);
  })
    .addOption(opt('--nodes <N>', 'how many nodes (agents) to run'))
    .addOption(opt('--cpu <C>', 'CPUs of each node (4)'))
    .addOption(opt('--memory <MiB>', 'memory of each node (8192)'))
    .addOption(opt('--disk <MiB>', 'disk of each node (100000)'))
    .addOption(opt('--name-prefix <P>', 'node names are P1, P2, ... zero-padded (swarm-)'))
    .addHelpText('after', `
Needs --server URL and --token T, as vws agent does. The VMs are simulated (in memory, small
delays per operation, images taken as cached without their bytes) and are lost when the swarm
stops; the agents follow the service through a restart as vws agent does. Prints a line each time
every agent has been welcomed once more.`);
}

/** --inject may be given again and again. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function addSim(program: Command, leaf: Leaf): void {
  const sim = leaf(program, 'sim', 'simulate the lease scheduler over a workload trace', async () => {
    const { simCommand } = await import('./sim-command.ts');
    return ({ values }) => simCommand(values as SimOptions);
  });
  const group = (heading: string, ...options: Array<[string, string]>): void => {
    for (const [flags, description] of options) sim.addOption(opt(flags, description, heading));
  };
  group('workload:', ['--trace <FILE>', 'SWF (.swf, .swf.gz) or LWF (XML or AR lines) workload'],
    ['--replay <STORE>', "instead, a site's own log (its --data DIR or PostgreSQL URL): as it ran, and under --terms FILE (else its own terms); --schedule s.jsonl writes the second there, the first to s.real.jsonl"]);
  sim.addOption(opt('--inject <FILE>', 'advance reservations to add (may be repeated)', 'workload:').argParser(collect));
  group('pool:', ['--nodes <N>', 'number of identical nodes (144)'], ['--node-cpu <C>', 'CPUs per node (1)'], ['--node-memory <MiB>', 'memory per node (1024)']);
  group('scheduling:',
    ['--backfill <MODE>', 'easy | conservative | none (easy)'],
    ['--preemption <MODE>', 'suspend | requeue (suspend)'],
    ['--policy <NAME>', `which preemptible leases give way first: ${Object.keys(PREEMPTION_POLICIES).join(' | ')} (youngest-first)`],
    ['--suspend-rate <MBps>', 'memory saved per second when suspending (50; inf = free)'],
    ['--resume-rate <MBps>', 'memory restored per second when resuming (50; inf = free)'],
    ['--migrate-bandwidth <MBps>', "moving a suspended lease's memory and disk to other nodes (100; inf = free)"],
    ['--no-migration', 'a suspended lease resumes only where it was'],
    ['--threshold-factor <F>', 'run at least F x the suspend/resume overheads (1)'],
    ['--suspended-order <O>', 'where a suspended lease queues again: arrival | suspension (arrival)'],
    ['--preset <NAME>', `a named set of the options above: ${PRESET_NAMES.join(' | ')} (none: the HPDC'08 study's rules); an option given beside it wins`],
    ['--terms <FILE>', "the site's terms (docs/terms.md), as vws serve reads them: their scheduling instead of the options here, and their limits on each lease"]);
  group('virtual machines:',
    ['--images <MODE>', 'predeployed | transfer (predeployed)'],
    ['--image-choice <C>', `${IMAGE_CHOICES.join(' | ')}: which image each lease uses (none = no VMs)`],
    ['--image-count <N>', 'distinct images for uniform/skewed (37)'],
    ['--image-size <MiB>', 'size of every image (4096)'],
    ['--image-bandwidth <MBps>', 'image repository link (100)'],
    ['--image-cache <MiB>', 'per-node image cache, 0 = no reuse (20000)'],
    ['--seed <N>', 'seed for the image draw (1)'],
    ['--runtime-overhead <PCT>', 'best-effort leases run PCT% longer in a VM (0)'],
    ['--boot-overhead <S>', "seconds to boot a lease's VMs (0)"],
    ['--shutdown-overhead <S>', 'seconds to shut them down (0)']);
  group('bursting (docs/simulator.md):',
    ['--burst-to <BACKEND>', "ec2: a lease the pool cannot start in time runs in an EC2 region instead, at its price"],
    ['--ec2-config <FILE>', "the site's EC2 configuration (docs/ec2-backend.md): instance types and prices, slots, unitsPerDollar"],
    ['--burst-after <S>', 'a best-effort lease the pool cannot start at once waits there, and bursts if it has not begun S seconds after it arrived (0: at once)'],
    ['--burst-boot <S>', 'seconds from launch to a running instance (60)'],
    ['--burst-slots <N>', "instances at once (the configuration's slots, else 1024)"]);
  group('cells (docs/scaling.md):',
    ['--cells <K>', 'split the pool into K cells of (nearly) equal size, each scheduled by itself behind a front'],
    ['--cell-sizes <N,N,...>', "the cells' sizes instead (they make the pool: --nodes, if given, must be their sum)"],
    ['--front <POLICY>', `how the front routes each lease to a cell: ${FRONT_POLICIES.join(' | ')} (earliest-start)`]);
  group('output:', ['--schedule <FILE>', 'write the vws.schedule/v1 export (JSON Lines); --json prints the metrics as JSON']);
  group('output:', ['--plot <DIR>', 'write SVG charts into DIR (made if missing): utilization.svg, queue.svg, waits-by-size.svg']);
  group('negotiation:',
    ['--at <TIME>', 'stop the simulation at TIME (seconds or [DD:]HH:MM:SS) ...'],
    ['--quote <JSON>', `... and print what the scheduler would answer to this request then,
e.g. '{"kind":"exact","start":"10:01:00:00","duration":"04:00:00","nodes":64}'
(fields: kind, start, duration, nodes, cpu, memoryMiB, deadline, preemptible, period, count, until, acceptPartial, id)`]);
}

function addSimPilots(program: Command, leaf: Leaf): void {
  leaf(program, 'sim-pilots', "simulate a batch log and VM leases sharing one cluster through pilot jobs (docs/pilots.md)", async () => {
    const { simPilotsCommand } = await import('./sim-pilots-command.ts');
    return ({ values }) => Promise.resolve(simPilotsCommand(values as SimPilotsOptions));
  })
    .addOption(opt('--batch <FILE>', "the batch system's log (SWF): its jobs, FCFS with EASY backfilling, preempt pilots"))
    .addOption(opt('--vms <FILE>', 'the VM leases (SWF or LWF): best-effort, run on pilot nodes only'))
    .addOption(opt('--pilots <FILE>', 'the pilot policy, JSON: {"maxPilots", "nodesPerPilot", "timeLimitSeconds", "idleTimeoutSeconds", "graceSeconds"}'))
    .addOption(opt('--nodes <N>', 'nodes of the cluster, 1 CPU each (144)'))
    .addOption(opt('--node-memory <MiB>', 'memory per node (1024)'))
    .addOption(opt('--window <S>', "VM work is also counted up to S seconds (the batch log's last submission)"))
    .addOption(opt('--json', 'print the figures as JSON'))
    .addOption(opt('--schedule <FILE>', "write the VM side's vws.schedule/v1 export (nodes b1..bN, each vws's only while a pilot holds it)"));
}

export function addLocalCommands(program: Command, leaf: Leaf): void {
  leaf(program, 'demo [DIR]', 'watch a minute of the service: a lease suspended for a reservation, then resumed (data in DIR, ./vws-data/demo)', async () => {
    const { demoCommand } = await import('./demo-command.ts');
    return ({ positionals }) => demoCommand(positionals[0]);
  });
  addServe(program, leaf);
  addAgent(program, leaf);
  addAgentSwarm(program, leaf);
  addSim(program, leaf);
  addSimPilots(program, leaf);
}
