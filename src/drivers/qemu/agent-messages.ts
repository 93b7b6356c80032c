// Every frame a node agent sends, as schemas checked before anything in it is believed: an agent
// speaks with an administrator's token, but what it says becomes nodes, VMs, workspace rows and
// scheduler inputs, and a number or a name the store cannot hold, once the scheduler has heard it,
// stops the service for everyone. Numbers are finite and within core/limits.ts, names have the
// forms the service gives them, free text is bounded and has nothing PostgreSQL refuses (NUL,
// half a surrogate pair); nothing is coerced and no unknown field passes.

import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { RawData } from 'ws';
import { DEPOT_NODE, type VmStatus } from '../driver.ts';
import { LARGEST_IMAGE_MIB, LONGEST_SECONDS, MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB, MOST_NODES, NODE_ID_PATTERN, STORABLE_TEXT_PATTERN, UNSTORABLE_CHARACTER } from '../../core/limits.ts';
import { type AgentCalls, type AgentMessage, type AgentOp, type NodeReport, PROTOCOL_VERSION, type SeedFiles, type Timing } from './protocol.ts';
import { LIMIT_BOUNDS, MOST_NODE_BANDWIDTH_MBPS } from '../leased-limits.ts';

/** The longest free text an agent sends (a VM's detail, an error's message); the agent cuts its own to fit (fitText). */
export const LONGEST_TEXT = 4096;
/** The most a seed's files may hold (meta-data, network-config, user-data): what vws makes fits with room to spare. */
export const LONGEST_SEED_TEXT = { metaData: 4096, networkConfig: 16_384, userData: 262_144 } as const;
/** The most VMs one node reports. */
export const MOST_VMS_PER_NODE = 4096;
/** The longest an operation on a node may be reported to have taken. */
export const LONGEST_OPERATION_MS = LONGEST_SECONDS * 1000;

const strict = { additionalProperties: false } as const;
const LEASE_ID = '[A-Za-z0-9][A-Za-z0-9._#-]{0,127}';
const IMAGE_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

const Text = (maxLength: number) => Type.String({ maxLength, pattern: STORABLE_TEXT_PATTERN, description: `at most ${maxLength} characters, without NUL` });
const OrNull = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const NodeName = Type.String({ pattern: NODE_ID_PATTERN, description: '1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit' });
/** Where a VM is: a node, or parked in its node's depot (DEPOT_NODE). */
const VmNode = Type.String({ pattern: `^(${NODE_ID_PATTERN.slice(1, -1)}|${DEPOT_NODE})$`, description: `a node name or ${DEPOT_NODE}` });
const DepotId = Type.String({ pattern: '^[0-9a-f]{32}$', description: "32 lowercase hex digits, the id in the depot's depot.json" });
const VmId = Type.String({ pattern: `^${LEASE_ID}/(0|[1-9][0-9]{0,5})$`, description: 'a lease id, "/" and the index of the VM in the lease' });
const Address = Type.String({ pattern: '^[A-Za-z0-9.:_%\\[\\]-]{1,255}$', description: 'a host name or an IP address' });
const Ip = Type.String({ pattern: '^[0-9A-Fa-f.:]{2,45}$', description: 'an IP address' });
const Port = Type.Integer({ minimum: 1, maximum: 65_535 });
const Ms = Type.Integer({ minimum: 0, maximum: LONGEST_OPERATION_MS });
const Cpu = Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS });
const MemoryMiB = Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB });

const VmStatusSchema = Type.Object({
  id: VmId,
  node: VmNode,
  state: Type.Union((['starting', 'running', 'suspending', 'suspended', 'resuming', 'migrating', 'stopping', 'stopped', 'failed'] as const).map((s) => Type.Literal(s))),
  ip: OrNull(Ip),
  console: OrNull(Text(1024)),
  detail: Type.Optional(Text(LONGEST_TEXT)),
}, strict);
const VmList = Type.Array(VmStatusSchema, { maxItems: MOST_VMS_PER_NODE });

const NodeReportSchema = Type.Object({
  name: NodeName,
  cpu: Cpu,
  memoryMiB: MemoryMiB,
  diskMiB: Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB }),
  bandwidthMbps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_NODE_BANDWIDTH_MBPS, description: 'network bandwidth the node leases to its VMs, Mbit/s' })),
  transferAddress: Address,
  migrationAddress: Address,
  underlayAddress: Type.Optional(Ip),
  depot: Type.Optional(DepotId),
  pilot: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'a Slurm job id: digits' })),
}, strict);

const ImageRefSchema = Type.Object({
  name: Type.String({ pattern: IMAGE_NAME }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  sizeMiB: Type.Integer({ minimum: 1, maximum: LARGEST_IMAGE_MIB }),
}, strict);

const SeedSchema = Type.Object({
  metaData: Text(LONGEST_SEED_TEXT.metaData), networkConfig: Text(LONGEST_SEED_TEXT.networkConfig), userData: Text(LONGEST_SEED_TEXT.userData),
}, strict);

const WorkloadSchema = Type.Object({
  vm: Type.Object({
    id: VmId, leaseId: Type.String({ pattern: `^${LEASE_ID}$` }), index: Type.Integer({ minimum: 0, maximum: MOST_NODES }), node: NodeName,
    cpu: Cpu, memoryMiB: MemoryMiB, image: OrNull(Type.String({ pattern: IMAGE_NAME })),
    mac: Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' }), scratchMiB: Type.Optional(Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB })),
    networks: Type.Optional(Type.Array(Type.Union([Type.Literal('public'), Type.Literal('private')]), { minItems: 1, maxItems: 2, uniqueItems: true })),
    // The lease's limits, as the API bounds them (leased-limits.ts); the agent checks them again before it applies them.
    ...Object.fromEntries(Object.entries(LIMIT_BOUNDS).map(([field, b]) => [field, Type.Optional((b.integer ? Type.Integer : Type.Number)({ minimum: b.minimum, maximum: b.maximum }))])),
  }, strict),
  ip: Ip,
  disk: OrNull(ImageRefSchema),
  boot: OrNull(Type.Object({ kernel: ImageRefSchema, initrd: ImageRefSchema, cmdline: Text(LONGEST_TEXT) }, strict)),
  seed: Type.Optional(SeedSchema),
  // A cluster member's private NIC and network: the agent checks each value again (cluster-spec.ts).
  nics: Type.Optional(Type.Array(Type.Object({
    network: Type.Literal('private'), mac: Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' }), ip: Ip,
    tap: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$' })), hostname: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,63}$' })),
  }, strict), { maxItems: 1 })),
  cluster: Type.Optional(Type.Object({
    number: Type.Integer({ minimum: 1, maximum: 99_999_999 }), vni: Type.Integer({ minimum: 1, maximum: 0xff_ffff }),
    nodeAddress: Ip, prefix: Type.Integer({ minimum: 8, maximum: 30 }), contextAddress: Ip, peers: Type.Array(Ip, { maxItems: 1024 }),
  }, strict)),
  publicNic: Type.Optional(Type.Boolean()),
}, strict);

const LandingSchema = Type.Object({ address: Address, port: Port, ticket: Type.String({ pattern: '^[A-Za-z0-9_-]{0,256}$' }), diskPort: Type.Optional(Port) }, strict);

/** What each call answers with: `null` for a call that answers nothing. */
const VALUES = {
  prepareImages: Type.Null(), start: VmStatusSchema, stop: Type.Null(), suspend: VmStatusSchema, resume: VmStatusSchema,
  receive: LandingSchema, send: Type.Null(), received: VmStatusSchema, incoming: LandingSchema,
  migrateLive: Type.Object({ totalMs: Ms, downtimeMs: Ms }, strict), arrived: VmStatusSchema, abandon: Type.Null(),
  status: VmList, workload: WorkloadSchema, clusterPeers: Type.Null(), park: VmStatusSchema, unpark: VmStatusSchema, leave: Type.Null(),
} satisfies Record<AgentOp, TSchema>;

const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const MESSAGES = {
  hello: Type.Object({ type: Type.Literal('hello'), version: Type.Literal(PROTOCOL_VERSION), node: NodeReportSchema, vms: VmList }, strict),
  answer: Type.Object({ type: Type.Literal('result'), id: Id, ok: Type.Literal(true), value: Type.Unknown() }, strict),
  failure: Type.Object({ type: Type.Literal('result'), id: Id, ok: Type.Literal(false), error: Type.Object({ message: Text(LONGEST_TEXT), refused: Type.Boolean() }, strict) }, strict),
  vm: Type.Object({ type: Type.Literal('vm'), vm: VmStatusSchema }, strict),
  leaving: Type.Object({ type: Type.Literal('leaving') }, strict),
  timing: Type.Object({
    type: Type.Literal('timing'),
    timing: Type.Object({ op: Type.Union((['boot', 'suspend', 'resume', 'migrate', 'live-migrate'] as const).map((s) => Type.Literal(s))), memoryMiB: MemoryMiB, ms: Ms }, strict),
  }, strict),
};

// The schemas say no more than the protocol's types: a change to one that the other does not follow fails to compile.
const _sameShapes: [Static<typeof NodeReportSchema>, Static<typeof VmStatusSchema>, Static<(typeof MESSAGES)['timing']>['timing'], Static<typeof SeedSchema>] extends [NodeReport, VmStatus, Timing, SeedFiles] ? true : never = true;
void _sameShapes;

/** What an agent sent that the service does not take: the agent is refused; nothing of the frame was acted on. */
export class AgentMessageError extends Error {}

const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false, verbose: true });
const compiled = new Map<TSchema, ValidateFunction>();
const validator = (schema: TSchema): ValidateFunction => {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
};

/** One thing wrong with a value, by the field at fault, in words an operator can act on. */
function problem(where: string, e: ErrorObject): string {
  const path = `${where}${e.instancePath.replaceAll('/', '.')}`;
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === 'required') return `${path}.${p.missingProperty} is missing`;
  if (e.keyword === 'additionalProperties') return `${path}.${p.additionalProperty} is not a field the service knows: remove it`;
  const described = (e.parentSchema as { description?: string } | undefined)?.description;
  const rule = e.keyword === 'pattern' && described ? `must be ${described}` : (e.message ?? 'is invalid');
  const got = typeof e.data === 'string' ? JSON.stringify(e.data.length > 40 ? `${e.data.slice(0, 40)}…` : e.data) : typeof e.data === 'object' && e.data !== null ? (Array.isArray(e.data) ? 'an array' : 'an object') : String(e.data);
  return `${path} ${rule}, got ${got}`;
}

function problemIn(schema: TSchema, value: unknown, where: string): string | null {
  const v = validator(schema);
  return v(value) ? null : problem(where, v.errors![0]);
}

function check<T>(schema: TSchema, value: unknown, where: string, advice: string): T {
  const wrong = problemIn(schema, value, where);
  if (wrong) throw new AgentMessageError(`${wrong}: ${advice}`);
  return value as T;
}

const SAME_VERSION = 'run the same vws version on the node as the service';
const FIX_HELLO = `the node was not added or changed; correct what the agent reports (vws agent --name, --cpu, --memory, --disk, --transfer-address, --depot, --pilot-job) or ${SAME_VERSION}`;

/**
 * Reads a frame an agent sent: a JSON text frame holding one of the agent's messages, each field
 * as the schemas say. Throws an AgentMessageError saying what is wrong and what to do.
 */
export function readAgentMessage(data: RawData, isBinary: boolean): AgentMessage {
  if (isBinary) throw new AgentMessageError(`a binary frame: agents send JSON text frames; ${SAME_VERSION}`);
  const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new AgentMessageError(`a frame that is not JSON: ${SAME_VERSION}`);
  }
  const type = typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as { type?: unknown }).type : undefined;
  if (type === 'hello') {
    const version = (m as { version?: unknown }).version;
    if (version !== PROTOCOL_VERSION) throw new AgentMessageError(`hello.version: agent protocol ${JSON.stringify(version)?.slice(0, 20)} is not ${PROTOCOL_VERSION}: ${SAME_VERSION}`);
    return check(MESSAGES.hello, m, 'hello', FIX_HELLO);
  }
  if (type === 'result') return check((m as { ok?: unknown }).ok === true ? MESSAGES.answer : MESSAGES.failure, m, 'result', SAME_VERSION);
  if (type === 'vm' || type === 'timing' || type === 'leaving') return check(MESSAGES[type], m, type, SAME_VERSION);
  throw new AgentMessageError(`a frame whose type is not one of hello, result, vm, timing, leaving (got ${JSON.stringify(type)?.slice(0, 40) ?? 'none'}): ${SAME_VERSION}`);
}

/** What is wrong with a VM's seed (too large, or text a file cannot hold), or null: the agent checks before it writes one. */
export function seedProblem(seed: unknown): string | null {
  const wrong = problemIn(SeedSchema, seed, 'seed');
  return wrong && `${wrong}: the service sent a seed this agent does not write`;
}

/** What is wrong with a VM id (one the service would never give: a path, say), or null. */
export function vmIdProblem(id: unknown): string | null {
  return problemIn(VmId, id, 'vm.id');
}

/** What the service would refuse in a node's report, checked by the agent before it dials; null if nothing. */
export function nodeReportProblem(node: NodeReport): string | null {
  const wrong = problemIn(NodeReportSchema, node, 'node');
  return wrong && `${wrong}: the service would refuse this node`;
}

/** The first frame of a connection, which must be a hello. */
export function readHello(data: RawData, isBinary: boolean): Extract<AgentMessage, { type: 'hello' }> {
  const m = readAgentMessage(data, isBinary);
  if (m.type !== 'hello') throw new AgentMessageError(`a ${m.type} message before its hello: an agent says hello first; ${SAME_VERSION}`);
  return m;
}

/** The value of an agent's answer to a call, checked as that call answers; throws an AgentMessageError. */
export function readResultValue<K extends AgentOp>(op: K, value: unknown): AgentCalls[K]['value'] {
  return check(VALUES[op], value, `result.value (${op})`, SAME_VERSION);
}

/** Free text cut to what the service takes: the agent's own messages must never get it refused. */
export function fitText(text: string): string {
  const cut = text.length <= LONGEST_TEXT ? text : `${text.slice(0, LONGEST_TEXT - 1)}…`;
  return cut.replace(new RegExp(UNSTORABLE_CHARACTER, 'gu'), '\ufffd');
}
