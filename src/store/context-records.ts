// What the store keeps of a cluster's context, as the context broker defines it (src/broker):
// what was registered when its VMs were deployed (the spec) and how far each member has come
// (its progress). Plain values kept as JSON; defined here, below the broker, so that the store
// needs nothing from the layers above it.

/** A file a role's members write, root-owned, with this mode. */
export interface RoleFile {
  path: string;
  content: string;
  mode: number;
}

/** A role as the broker needs it: who provides what, who requires what, and its partial-failure rule. */
export interface BrokerRole {
  name: string;
  count: number;
  /** How many members must come up for the role to be up; absent: all of them (all or nothing). */
  minCount?: number;
  /** Entries beyond the implicit ones (ip, hostname, host-key) that each member reports. */
  provides: readonly string[];
  /** `ROLE.ENTRY` names whose values its members receive. */
  requires: readonly string[];
  files: readonly RoleFile[];
}

export interface BrokerMember {
  /** Unique within its cluster; the guest names itself by it when it exchanges its secret. */
  id: string;
  role: string;
  index: number;
  hostname: string;
  /**
   * The address the service gave it, when it knows it (its DHCP): the member must report this
   * one, so that no member can put another's address under its name in every /etc/hosts.
   */
  ip?: string;
}

/** How long each step may take, in seconds, counted from the end of the step before it. */
export interface StepTimeouts {
  /** From registration to the secret's exchange (the VM boots in this time). */
  exchange: number;
  /** From the exchange to the report of what the member provides. */
  report: number;
  /** From the report to the delivery of its context (waiting for the other members). */
  context: number;
  /** From the delivery to the member's report that it applied its context. */
  done: number;
}

export interface ContextSpec {
  leaseId: string;
  /** The lease owner's ssh public keys: every member's root account gets them. */
  ownerKeys: readonly string[];
  roles: readonly BrokerRole[];
  members: readonly BrokerMember[];
  timeouts: StepTimeouts;
  registeredAt: number;
}

/** What a member reports about itself. */
export interface Provided {
  ip: string;
  hostname: string;
  hostKey: string;
  /** Exactly its role's `provides`, each with its value. */
  entries: Record<string, string>;
}

/** How far one member has come; times are epoch seconds, null until the step happened. */
export interface MemberProgress {
  exchangedAt: number | null;
  reportedAt: number | null;
  provided: Provided | null;
  deliveredAt: number | null;
  doneAt: number | null;
  failedAt: number | null;
  /** Why it failed, said so a person can act on it. */
  failure: string | null;
}
