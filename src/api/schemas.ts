// The API's request and response shapes: the same schemas validate requests (fastify/ajv) and
// make up the OpenAPI document, so the document cannot drift from what the server accepts.

import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { MAX_ROLES, ROLE_NAME } from '../core/roles.ts';
import type { RefusalCode } from '../control/refusal.ts';
import { LARGEST_IMAGE_MIB, LATEST_INSTANT, LONGEST_HOLD_SECONDS, LONGEST_SECONDS, MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB, MOST_NODES, MOST_OCCURRENCES, NODE_ID_PATTERN, STORABLE_TEXT_PATTERN } from './limits.ts';
import { LIMIT_BOUNDS, MOST_NODE_BANDWIDTH_MBPS } from '../drivers/leased-limits.ts';
import { REFUSAL_STATUS } from './refusal-status.ts';
import { Role, Roles, SshPublicKeys, UserData } from './cluster-schemas.ts';
import { ImageDescription } from './image-schemas.ts';
import { LimitFields } from './limit-schemas.ts';

const strict = { additionalProperties: false } as const;
/** Epoch seconds a request may name: 0 to 2100. */
export const Instant = (description: string) => Type.Integer({ minimum: 0, maximum: LATEST_INSTANT, description: `${description}; at most ${LATEST_INSTANT} (2100)` });
const Seconds = (description: string) => Type.Integer({ minimum: 1, maximum: LONGEST_SECONDS, description: `${description}; at most ${LONGEST_SECONDS} (366 days)` });
/** Group names (GroupBody, LeaseSpec.group). */
const GROUP_NAME = '^[a-z][a-z0-9._-]{0,31}$';
/** Back-end names are driver names. */
const BACKEND_NAME = '^[a-z][a-z0-9-]{0,31}$';
const Nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});

/** Every error answer; its code is one of the table's (api/refusal-status.ts), which gives the status. */
export const ErrorBody = Type.Object({
  code: Type.Unsafe<RefusalCode>({
    type: 'string', enum: Object.keys(REFUSAL_STATUS),
    description: `stable, machine-readable reason; each code has one status: ${Object.entries(REFUSAL_STATUS).map(([c, s]) => `${c} ${s}`).join(', ')}`,
  }),
  message: Type.String({ description: 'what was wrong and what to do' }),
  path: Type.Optional(Type.String({ description: 'the field at fault, for invalid input' })),
  earliestStart: Type.Optional(Nullable(Type.Integer(), 'for a refused lease: the earliest start at which the same request would be accepted, null if none')),
  alternatives: Type.Optional(Type.Array(Type.Unknown(), { description: 'for a refused lease: requests that would be accepted instead, each with its spec' })),
  occurrences: Type.Optional(Type.Array(Type.Unknown(), { description: 'for a refused periodic lease: the answer for each occurrence' })),
});

export const LeaseKind = Type.Union([Type.Literal('best-effort'), Type.Literal('immediate'), Type.Literal('exact'), Type.Literal('urgent'), Type.Literal('deadline'), Type.Literal('periodic')]);

export const Recurrence = Type.Object({
  period: Seconds('seconds between occurrence starts'),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_OCCURRENCES })),
  until: Type.Optional(Instant('epoch seconds: occurrences start before it')),
  acceptPartial: Type.Optional(Type.Boolean()),
}, strict);

export const LeaseSpec = Type.Object({
  kind: LeaseKind,
  nodes: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_NODES, description: 'VMs (one per node); with cpu and memoryMiB, for a lease of one shape (else roles)' })),
  cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS, description: 'CPUs per node (may be fractional)' })),
  memoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB })),
  diskMiB: Type.Optional(Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB })),
  ...LimitFields,
  roles: Type.Optional(Roles),
  userData: Type.Optional(UserData),
  sshPublicKeys: Type.Optional(SshPublicKeys),
  duration: Seconds('seconds'),
  start: Type.Optional(Instant('epoch seconds: the exact start (exact, periodic) or the earliest (deadline)')),
  deadline: Type.Optional(Instant('epoch seconds (deadline leases)')),
  preemptible: Type.Optional(Type.Boolean({ description: 'default: true for best-effort, false otherwise' })),
  image: Type.Optional(Type.String({ minLength: 1, description: 'a registered image name' })),
  recurrence: Type.Optional(Recurrence),
  group: Type.Optional(Type.String({ pattern: GROUP_NAME, description: 'share the lease with this group (you must be a member)' })),
  backend: Type.Optional(Type.String({ pattern: BACKEND_NAME, description: 'the back-end to run on (GET /v1/backends); absent: the site\'s policy chooses (docs/backends.md)' })),
}, strict);
export type LeaseSpec = Static<typeof LeaseSpec>;

export const HoldBody = Type.Object({ lease: LeaseSpec, ttl: Type.Integer({ minimum: 1, maximum: LONGEST_HOLD_SECONDS, description: 'seconds the hold lasts' }) }, strict);

const UsageEntry = Type.Object({ coreSeconds: Type.Number(), mibSeconds: Type.Number() });

export const Workspace = Type.Object({
  leaseId: Type.String(), index: Type.Integer(), node: Nullable(Type.String()), status: Type.String(), mac: Type.String(),
  ip: Nullable(Type.String()), image: Nullable(Type.String()), console: Nullable(Type.String()), updatedAt: Type.Integer(),
  role: Nullable(Type.String(), 'the role of a cluster lease\'s VM, null for a lease of one shape'),
  member: Nullable(Type.Integer(), 'which of its role\'s VMs it is, from 0; null for a lease of one shape'),
  hostname: Type.String({ description: 'its host name, a DNS label: LEASE-ROLE-K for a cluster\'s VM, LEASE-K otherwise' }),
  context: Type.Optional(Type.Object({
    state: Type.Union([Type.Literal('pending'), Type.Literal('complete'), Type.Literal('failed')]),
    reason: Nullable(Type.String(), 'why it failed'),
    waitsFor: Type.Array(Type.String(), { description: 'what it still waits for, while pending' }),
  }, { description: 'a cluster member\'s context state, in GET /v1/leases/{id} while the broker holds the lease\'s context' })),
});

export const Lease = Type.Object({
  id: Type.String(), owner: Type.String(), group: Nullable(Type.String()), kind: LeaseKind, status: Type.String(),
  reason: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  nodes: Type.Array(Type.String()), plannedStart: Nullable(Type.Integer()), plannedEnd: Nullable(Type.Integer()),
  actualStart: Nullable(Type.Integer()), actualEnd: Nullable(Type.Integer()),
  usage: Type.Record(Type.String(), UsageEntry), createdAt: Type.Integer(), updatedAt: Type.Integer(),
  usageAt: Type.Number({ description: 'the time (epoch seconds) usage and charge are counted up to: now, from the leader; the row\'s updatedAt, from a follower (which answers from the store)' }),
  charge: Type.Optional(Type.Object({
    amount: Nullable(Type.Number(), 'in the site\'s unit; null where a back-end\'s dollars have no conversion'), unit: Type.String(),
    dollars: Type.Optional(Type.Number({ description: 'what a billing back-end (EC2) charged, by its model' })),
  }, { description: 'what the lease has been charged so far' })),
  backend: Type.Optional(Type.String({ description: 'the back-end it runs on' })),
  burst: Type.Optional(Type.Object({ backend: Type.String(), at: Type.Integer() }, { description: 'a best-effort lease waiting on the pool: the back-end it moves to if it has not begun by `at`' })),
  spec: Type.Unknown(), workspaces: Type.Optional(Type.Array(Workspace)),
  context: Type.Optional(Type.Object({
    status: Type.Union([Type.Literal('pending'), Type.Literal('complete'), Type.Literal('failed')]),
    reason: Nullable(Type.String(), 'the first failure'),
    roles: Type.Array(Type.Object({
      name: Type.String(), count: Type.Integer(), minCount: Type.Integer(), status: Type.String(),
      reported: Type.Integer(), done: Type.Integer(), failed: Type.Integer(),
    })),
  }, { description: 'a cluster lease\'s context (GET /v1/leases/{id}, while the broker holds it): its status and each role\'s progress' })),
});

export const LeaseList = Type.Object({ leases: Type.Array(Lease), next: Nullable(Type.String()) });

export const LeaseQuery = Type.Object({
  status: Type.Optional(Type.Union(['pending', 'scheduled', 'held', 'deploying', 'running', 'suspending', 'suspended', 'resuming', 'ending', 'done', 'cancelled', 'rejected', 'failed', 'renegotiating'].map((s) => Type.Literal(s)))),
  owner: Type.Optional(Type.String()), kind: Type.Optional(LeaseKind),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), after: Type.Optional(Type.String()),
}, strict);

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256, pattern: STORABLE_TEXT_PATTERN, description: 'at most 256 characters, without NUL' }) }, strict);

export const NodeBody = Type.Object({
  id: Type.String({ pattern: NODE_ID_PATTERN }),
  cpu: Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS }), memoryMiB: Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB }),
  diskMiB: Type.Optional(Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB })),
  bandwidthMbps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_NODE_BANDWIDTH_MBPS, description: 'network bandwidth the node leases to its VMs, Mbit/s each way: leases that ask for bandwidthMbps share it; absent: it leases none (their bandwidth is shaped, not counted)' })),
}, strict);

export const NodeEstimates = Type.Object({
  suspendMiBps: Nullable(Type.Number({ description: 'memory saved per second, MiB/s' })),
  resumeMiBps: Nullable(Type.Number({ description: 'memory restored per second, MiB/s' })),
  migrateMiBps: Nullable(Type.Number({ description: 'memory moved to another node per second, MiB/s' })),
  bootSeconds: Nullable(Type.Number({ description: 'from start until the guest took its address' })),
  samples: Type.Integer({ description: 'operations measured' }),
}, { description: 'running estimates of how long VM operations take on the node, from what its agent measured; the scheduler plans with the slowest node\'s' });

export const Node = Type.Object({
  id: Type.String(), cpu: Type.Number(), memoryMiB: Type.Number(), diskMiB: Type.Number(),
  bandwidthMbps: Nullable(Type.Number(), 'the bandwidth it leases to its VMs, Mbit/s; null: none'),
  status: Type.Union(['active', 'draining', 'unavailable', 'removed'].map((s) => Type.Literal(s)), { description: 'unavailable: its agent has been away longer than its grace period; it takes nothing new until the agent is back' }),
  addedAt: Type.Integer(),
  departsAt: Nullable(Type.Integer(), 'when the node leaves the pool (a pilot\'s node: its batch job ends then, or its preemption began); null: it stays'),
  pilot: Nullable(Type.String(), 'the batch job (a Slurm job id) whose pilot brought the node; null for a node of the site\'s own'),
  backend: Type.Optional(Type.String({ description: 'the back-end it belongs to (the site\'s pool, or a cloud region leases burst to)' })),
  leases: Type.Optional(Type.Array(Type.String())),
  estimates: Type.Optional(Nullable(NodeEstimates, 'null until its agent has measured an operation; absent when the nodes do not run agents')),
});

export const NodeList = Type.Object({ nodes: Type.Array(Node) });

export const BackendList = Type.Object({
  backends: Type.Array(Type.Object({
    name: Type.String(), driver: Type.String(),
    capabilities: Type.Array(Type.String(), { description: 'what its driver can do beyond start and stop (suspendToFile, coldMigration, liveMigration, scratchDisks, enforceLimits: holds VMs to their leases\' bandwidth and disk I/O limits)' }),
    nodes: Type.Integer({ description: 'nodes (a cloud\'s: its capacity slots) in the site\'s index' }),
    bills: Type.Boolean({ description: 'runs leases on accounts it bills by instance (EC2): a lease needs its owner to have an account there' }),
    mayRun: Nullable(Type.Boolean(), 'for the caller: null where the back-end takes everyone'),
    why: Type.Optional(Type.String({ description: 'why the caller may not run there' })),
  })),
  policy: Type.Object({ burstAfterSeconds: Type.Integer({ description: 'how long a best-effort lease may wait on the pool before it bursts' }) }),
  prices: Type.Object({ unit: Type.String(), perCoreHour: Type.Number(), perGiBHour: Type.Number(), unitsPerDollar: Type.Record(Type.String(), Nullable(Type.Number())) }),
});

export const UserBody = Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9._-]{0,31}$' }), admin: Type.Optional(Type.Boolean()) }, strict);
export const GroupBody = Type.Object({ name: Type.String({ pattern: GROUP_NAME }), shareLeases: Type.Optional(Type.Boolean()) }, strict);
export const MemberBody = Type.Object({ user: Type.String({ minLength: 1 }) }, strict);
export const TokenBody = Type.Object({ label: Type.Optional(Type.String({ maxLength: 100 })), expiresIn: Type.Optional(Type.Integer({ minimum: 60, maximum: LONGEST_SECONDS })) }, strict);

/** What an owner asks to change of a live lease: absent fields stay (core/change-plan.ts). */
export const ChangeBody = Type.Object({
  duration: Type.Optional(Seconds('the whole run asked for, as when the lease was requested (not an increment)')),
  start: Type.Optional(Instant('epoch seconds: a scheduled exact lease (or one occurrence of a periodic lease) moved to start then')),
  nodes: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_NODES, description: 'VMs (one per node), for a lease not yet begun' })),
  cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS, description: 'CPUs per node (may be fractional), for a lease not yet begun' })),
  memoryMiB: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB, description: 'memory per node, for a lease not yet begun' })),
  bandwidthMbps: Type.Optional(Type.Number({ minimum: LIMIT_BOUNDS.bandwidthMbps.minimum, maximum: LIMIT_BOUNDS.bandwidthMbps.maximum, description: `network bandwidth per VM, Mbit/s from ${LIMIT_BOUNDS.bandwidthMbps.minimum} to ${LIMIT_BOUNDS.bandwidthMbps.maximum}, for a lease of one shape not yet begun` })),
  roles: Type.Optional(Type.Record(Type.String({ pattern: ROLE_NAME.source }), Type.Integer({ minimum: 1, maximum: MOST_NODES }), {
    additionalProperties: false, minProperties: 1, maxProperties: MAX_ROLES, description: 'a cluster lease not yet begun: members by role name, e.g. {"worker": 4}; roles not named keep theirs',
  })),
  backend: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'another back-end of the site (GET /v1/backends) to move the lease to: only a lease renegotiating a broken promise, taking an offer made to it there (docs/renegotiation.md)' })),
}, { ...strict, minProperties: 1, description: 'at least one field' });
export type ChangeBody = Static<typeof ChangeBody>;

export const MigrateBody = Type.Object({
  nodes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MOST_NODES, description: 'the nodes to move to, one for each node the lease runs on' }),
}, strict);

const ImageName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
const ImageBoot = Type.Object({
  kernel: Type.String({ minLength: 1, description: 'the registered image holding the kernel' }),
  initrd: Type.String({ minLength: 1, description: 'the registered image holding the initrd' }),
  cmdline: Type.String({ maxLength: 4096 }),
}, { ...strict, description: 'how to boot a disk that has no boot loader' });

const RULE = 'private: its owner and administrators; group: also the members of its group; public: every user (only an administrator makes an image public). '
  + 'An image the caller may not see answers as if it did not exist (404, or unknown-image when a lease names it); members see and use, only the owner and administrators change it';
const Visibility = (description: string) => Type.Union([Type.Literal('private'), Type.Literal('group'), Type.Literal('public')], { description });
const ImageGroup = Type.String({ minLength: 1, description: 'the group that sees it when its visibility is group: one you are in; default: yours, if you are in exactly one' });

export const ImageBody = Type.Object({
  name: ImageName,
  sizeMiB: Type.Integer({ minimum: 1, maximum: LARGEST_IMAGE_MIB }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  boot: Type.Optional(ImageBoot),
  visibility: Type.Optional(Visibility(`who sees and uses the image, private unless asked. ${RULE}`)),
  group: Type.Optional(ImageGroup),
  description: Type.Optional(ImageDescription),
}, strict);

export const ImagePatch = Type.Object({
  visibility: Type.Optional(Visibility(`who sees and uses the image. ${RULE}`)), group: Type.Optional(ImageGroup),
  description: Type.Optional(Nullable(ImageDescription, 'replaces the description whole (null: none); a format other than the stored content\'s is refused')),
}, strict);

export const ImageNameParam = Type.Object({ name: Type.String({ minLength: 1 }) }, strict);

export const Image = Type.Object({
  name: Type.String(), sizeMiB: Type.Integer(), sha256: Type.String(), owner: Type.String(),
  group: Nullable(Type.String()), visibility: Visibility(RULE),
  uploaded: Type.Boolean({ description: 'its content is stored and verified. Registering content stored for another image counts as uploaded only if the caller may see such an image; otherwise the caller uploads it' }),
  createdAt: Type.Integer(), boot: Nullable(ImageBoot),
  description: Nullable(ImageDescription, 'its catalogue entry, null if never described'),
});

export const ImageList = Type.Object({ images: Type.Array(Image, { description: 'the images the caller may see' }) });

/** Named in the OpenAPI document's components. */
export const COMPONENTS = { Error: ErrorBody, LeaseSpec, Role, Lease, Workspace, Node, NodeEstimates, Image, ImageDescription };
