// What the service keeps, and the one interface every store (SQLite, PostgreSQL) implements.
// Times are integer seconds since the Unix epoch. JSON-valued fields are stored as JSON text
// (SQLite) or jsonb (PostgreSQL) and come back as the same values.

import type { ChangeAlternative } from '../core/change-plan.ts';
import type { ContextSpec, MemberProgress } from './context-records.ts';
import type { ClientTokenRow, Ec2CredentialRow, KeyPairRow, TagRow } from './ec2-records.ts';
import type { SignerRow, StatementRow, TrustPolicyRow } from './trust-records.ts';
import type { LeaseKind, LeaseRequest } from '../core/types.ts';
import type { StoreLeadership } from './leadership.ts';

/** What a lease is to its owner, as the API shows it. */
export type LeaseStatus =
  | 'pending' | 'scheduled' | 'deploying' | 'running' | 'suspending' | 'suspended' | 'resuming' | 'ending'
  | 'done' | 'cancelled' | 'rejected' | 'failed' | 'held'
  /** A promise the site broke: the lease holds nothing and waits for its owner to take an offer (core/renegotiation.ts). */
  | 'renegotiating';

export type WorkspaceStatus = 'pending' | 'deploying' | 'running' | 'suspending' | 'suspended' | 'resuming' | 'stopping' | 'stopped' | 'failed';

/** 'unavailable': its agent stayed away; it takes nothing new until the agent is back (a free-text column: no migration). */
export type NodeStatus = 'active' | 'draining' | 'unavailable' | 'removed';

export interface UserRow {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: number;
  /** A disabled user's tokens are refused; absent means false. */
  disabled?: boolean;
}

export interface GroupRow {
  name: string;
  /** Members see and act on each other's leases. */
  shareLeases: boolean;
  createdAt: number;
}

export interface TokenRow {
  id: string;
  userId: string;
  /** sha256 of the bearer token, hex; the token itself is never stored. */
  hash: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
}

/** Core-seconds and MiB-seconds spent per lease status. */
export type Usage = Partial<Record<LeaseStatus, { coreSeconds: number; mibSeconds: number }>>;

export interface LeaseRow {
  id: string;
  owner: string;
  group: string | null;
  kind: LeaseKind;
  request: LeaseRequest;
  status: LeaseStatus;
  /**
   * Why it was rejected, failed or cancelled: a reason code and a message a person can act on;
   * while it renegotiates, why its promise broke, the changes it is offered and until when.
   */
  reason: { code: string; message: string; offers?: readonly ChangeAlternative[]; until?: number } | null;
  plannedStart: number | null;
  plannedEnd: number | null;
  actualStart: number | null;
  actualEnd: number | null;
  nodes: string[];
  usage: Usage;
  createdAt: number;
  updatedAt: number;
  /**
   * As the leader had them when it wrote the row (at updatedAt): the back-end the lease runs on and
   * what it had been charged. A follower answers reads from rows; rows written before migration 11 have neither.
   */
  backend?: string;
  charge?: StoredPrice;
}

/** An amount in the site's unit (null where a back-end's dollars have no conversion), and dollars on a billing back-end. */
export interface StoredPrice {
  amount: number | null;
  unit: string;
  dollars?: number;
}

export interface LeaseFilter {
  status?: LeaseStatus;
  owner?: string;
  /** Leases owned by any of these users (a group's members). */
  owners?: string[];
  kind?: LeaseKind;
  /** Rows with id > after, in id order. */
  after?: string;
  limit?: number;
}

export interface WorkspaceRow {
  leaseId: string;
  /** 0-based, one per node of the lease. */
  index: number;
  node: string | null;
  status: WorkspaceStatus;
  mac: string;
  ip: string | null;
  image: string | null;
  /** Where the driver shows the console or log, if it has one. */
  console: string | null;
  updatedAt: number;
  /** A cluster's VM: its role's name and which of that role's VMs it is (from 0); null for a lease of one shape. */
  role: string | null;
  member: number | null;
  /** The guest's host name, a DNS label (workspace-names.ts). */
  hostname: string;
}

export interface NodeRow {
  id: string;
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
  /** The bandwidth the node leases to its VMs, Mbit/s (core/bandwidth.ts); null: it leases none, and leases' bandwidth is shaped but not counted there. */
  bandwidthMbps: number | null;
  status: NodeStatus;
  addedAt: number;
  /** When the node leaves the pool (a pilot's node, when its batch job ends); null: it stays. */
  departsAt: number | null;
  /** The batch job whose pilot brought the node (a Slurm job id); null for a node of the site's own. */
  pilot: string | null;
}

/**
 * Who may see and use an image besides its owner and administrators: no one else, the members of
 * its group, or everyone.
 */
export type ImageVisibility = 'private' | 'group' | 'public';

export interface ImageRow {
  name: string;
  sizeMiB: number;
  sha256: string;
  owner: string;
  /** The group whose members see it when its visibility is 'group': the owner's at registration (or the one named), else null. */
  group: string | null;
  visibility: ImageVisibility;
  /** Whether its content has been uploaded and verified. */
  uploaded: boolean;
  createdAt: number;
  /** For a disk with no boot loader: the images holding its kernel and initrd, and the kernel command line. */
  boot: ImageBoot | null;
  /** What the image is and needs, as its owner describes it (the catalogue's entry); null if never described. */
  description: ImageDescription | null;
}

/** How an image's content is stored: what the server accepts and agents boot (others are converted on import). */
export type ImageFormat = 'qcow2' | 'raw';

/**
 * An appliance's description, after EC2 AMI descriptions and Glance image properties: every field
 * is optional, so that an owner says what it knows. The minimum resources are enforced when a
 * lease names the image; the rest is for people and for filtering the catalogue.
 */
export interface ImageDescription {
  version?: string;
  os?: { family: string; release?: string };
  maintainer?: string;
  summary?: string;
  minimum?: { cpu?: number; memoryMiB?: number; diskMiB?: number };
  /** What it offers to and needs from contextualization: short names such as ssh, nfs-server, cloud-init. */
  provides?: string[];
  requires?: string[];
  format?: ImageFormat;
}

export interface ImageBoot {
  kernel: string;
  initrd: string;
  cmdline: string;
}

export interface EventRow {
  id: number;
  time: number;
  type: string;
  leaseId: string | null;
  /** Who may see it: the lease's owner and group; null for admin-only events (nodes). */
  owner: string | null;
  group: string | null;
  data: unknown;
}

/** One input to the scheduler, in the order it was given: replaying them rebuilds its state. */
export interface InputRow {
  seq: number;
  time: number;
  type: string;
  data: unknown;
}

/** A cluster registered with the context broker. */
export interface ContextRow {
  leaseId: string;
  spec: ContextSpec;
  createdAt: number;
}

/** One member of a cluster's context: its secret and session only as sha256 hashes (hex). */
export interface ContextMemberRow {
  leaseId: string;
  memberId: string;
  secretHash: string;
  /** Null until the secret is exchanged. */
  sessionHash: string | null;
  progress: MemberProgress;
  updatedAt: number;
}

/** The broker's Ed25519 key pair, PEM (SPKI and PKCS#8). */
export interface BrokerKeyRow {
  publicKey: string;
  privateKey: string;
  createdAt: number;
}

export interface Store {
  /** Brings the schema to the latest version; safe to call on every start. */
  migrate(): Promise<void>;
  schemaVersion(): Promise<number>;
  /**
   * Takes the store for one server, for as long as it stays open: null when taken, else why not
   * (another live server holds it). Several servers on one store are not safe yet: each would
   * schedule the same nodes.
   */
  claimForServer(): Promise<string | null>;
  /** The election and fence of a store that several servers share (PostgreSQL); null where one server holds it alone (SQLite). */
  leadership(): StoreLeadership | null;
  close(): Promise<void>;
  /** Runs fn with every write in it committed together or not at all. Calls must not nest. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;

  putUser(user: UserRow): Promise<void>;
  getUser(id: string): Promise<UserRow | null>;
  listUsers(): Promise<UserRow[]>;
  putGroup(group: GroupRow): Promise<void>;
  getGroup(name: string): Promise<GroupRow | null>;
  listGroups(): Promise<GroupRow[]>;
  addMember(group: string, userId: string): Promise<void>;
  removeMember(group: string, userId: string): Promise<void>;
  groupsOf(userId: string): Promise<string[]>;
  membersOf(group: string): Promise<string[]>;
  putToken(token: TokenRow): Promise<void>;
  tokenByHash(hash: string): Promise<TokenRow | null>;
  tokensOf(userId: string): Promise<TokenRow[]>;
  deleteToken(id: string): Promise<boolean>;

  appendInput(input: Omit<InputRow, 'seq'>): Promise<number>;
  /** Inputs with seq > afterSeq, in seq order. */
  inputs(afterSeq?: number): Promise<InputRow[]>;

  putLease(lease: LeaseRow): Promise<void>;
  getLease(id: string): Promise<LeaseRow | null>;
  listLeases(filter?: LeaseFilter): Promise<LeaseRow[]>;
  countLeasesByStatus(): Promise<Partial<Record<LeaseStatus, number>>>;

  putWorkspace(ws: WorkspaceRow): Promise<void>;
  workspacesOf(leaseId: string): Promise<WorkspaceRow[]>;
  /** Workspaces placed on a node (any lease), for reconciliation and drains. */
  workspacesOn(node: string): Promise<WorkspaceRow[]>;

  putNode(node: NodeRow): Promise<void>;
  getNode(id: string): Promise<NodeRow | null>;
  listNodes(): Promise<NodeRow[]>;

  putImage(image: ImageRow): Promise<void>;
  getImage(name: string): Promise<ImageRow | null>;
  listImages(): Promise<ImageRow[]>;
  /** The images registered with this content (sha256), by name: whose content is stored once, by hash. */
  imagesWithSha256(sha256: string): Promise<ImageRow[]>;

  /** Appends an event and returns its id (strictly increasing). */
  appendEvent(event: Omit<EventRow, 'id'>): Promise<number>;
  /** The id of the newest event, 0 when there is none. */
  lastEventId(): Promise<number>;
  /** Events with id > afterId, in id order, at most limit. */
  eventsAfter(afterId: number, limit: number): Promise<EventRow[]>;

  /** The response remembered for an Idempotency-Key of this user, if any. */
  idempotentResponse(owner: string, key: string): Promise<{ leaseId: string; response: unknown } | null>;
  rememberIdempotent(owner: string, key: string, leaseId: string, response: unknown): Promise<void>;

  /** Adds a cluster's context with all its members, or replaces the spec of one that exists (its members stay). */
  putContext(context: ContextRow, members: ContextMemberRow[]): Promise<void>;
  listContexts(): Promise<ContextRow[]>;
  /** Forgets a cluster's context and its members; false when there was none. */
  deleteContext(leaseId: string): Promise<boolean>;
  putContextMember(member: ContextMemberRow): Promise<void>;
  contextMembers(leaseId: string): Promise<ContextMemberRow[]>;
  /** The broker's key pair, null until one was kept. */
  brokerKey(): Promise<BrokerKeyRow | null>;
  /** Keeps this key pair unless one is kept already; returns the one kept. */
  keepBrokerKey(key: BrokerKeyRow): Promise<BrokerKeyRow>;

  // The EC2 front-end's (ec2-records.ts).
  putEc2Credential(credential: Ec2CredentialRow): Promise<void>;
  ec2Credential(accessKeyId: string): Promise<Ec2CredentialRow | null>;
  /** A user's access keys, oldest first. */
  ec2CredentialsOf(userId: string): Promise<Ec2CredentialRow[]>;
  deleteEc2Credential(accessKeyId: string): Promise<boolean>;
  /** Adds the key pair; false (and nothing written) when the owner has one of that name. */
  addKeyPair(keyPair: KeyPairRow): Promise<boolean>;
  /** An owner's key pairs by name. */
  keyPairsOf(owner: string): Promise<KeyPairRow[]>;
  deleteKeyPair(owner: string, name: string): Promise<boolean>;
  /** Sets the tag (its value replaced when the key is there). */
  putTag(tag: TagRow): Promise<void>;
  deleteTag(owner: string, resourceId: string, key: string): Promise<boolean>;
  /** An owner's tags by resource and key. */
  tagsOf(owner: string): Promise<TagRow[]>;
  clientToken(owner: string, token: string): Promise<ClientTokenRow | null>;
  /** Keeps the token unless the owner has it already; returns the one kept. */
  keepClientToken(row: ClientTokenRow): Promise<ClientTokenRow>;

  // The image trust policy's (trust-records.ts).
  /** Adds a trusted signer; false (and nothing written) when its name or key is there already. */
  addSigner(signer: SignerRow): Promise<boolean>;
  /** The trusted signers by name. */
  listSigners(): Promise<SignerRow[]>;
  deleteSigner(name: string): Promise<boolean>;
  /** The site's trust requirement; null until an administrator sets one (nothing is required then). */
  trustPolicy(): Promise<TrustPolicyRow | null>;
  putTrustPolicy(policy: TrustPolicyRow): Promise<void>;
  /** Attaches a statement to an image, replacing the one by the same key. */
  putImageStatement(statement: StatementRow): Promise<void>;
  /** An image's statements by key id. */
  imageStatements(image: string): Promise<StatementRow[]>;
}
