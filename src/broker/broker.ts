// The context broker in the service: holds every registered cluster's state in memory, writes
// each change to the store before it answers (so a restart picks up where it was), and applies
// the rules (rules.ts) at the clock's time. Calls for one cluster run one at a time, so that a
// secret cannot be exchanged twice by two requests racing each other.

import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual, createPrivateKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../control/clock.ts';
import { done as ok, refuse, type Result } from '../control/refusal.ts';
import type { ContextMemberRow, Store } from '../store/store.ts';
import { contextPayload, membersJson, roleTail } from './payload.ts';
import { registrationProblem, type Registration } from './registration.ts';
import { advance, counted, roleStatus, deliverable, nextDeadline, overlay, progressOf, reportProblem, roleNamed, stepOf, tallies, viewOf, waitsFor, type RoleTally } from './rules.ts';
import { DEFAULT_TIMEOUTS, FRESH, type BrokerMember, type ClusterContext, type ContextSpec, type ContextStatus, type ContextView, type MemberProgress, type Provided } from './types.ts';

/** A guest's session, found from its bearer token: the one member it may speak for. */
export interface GuestSession {
  leaseId: string;
  memberId: string;
}

export type ContextAnswer =
  | { ready: false; waitsFor: string[] }
  | { ready: true; payload: Buffer; signature: string };

interface Live {
  spec: ContextSpec;
  progress: Map<string, MemberProgress>;
  byId: Map<string, BrokerMember>;
  rows: Map<string, ContextMemberRow>;
  cancelTimer: (() => void) | null;
  timerAt: number | null;
  /** membersJson of the current state, rebuilt only after a report or a failure. */
  members: Buffer | null;
  /** roleTail of each role for the current state, dropped with `members`. */
  tails: Map<string, Buffer>;
  /** Each role's tally, kept up to date change by change: the rules would count all members. */
  tally: Map<string, RoleTally>;
  status: ContextStatus;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const SESSION_PREFIX = 'vwsctx_';

export interface BrokerOptions {
  /**
   * Told when a cluster's context becomes complete or failed (after the change is stored), with
   * its view: for the lease's events. Not awaited.
   */
  onSettled?: (view: ContextView) => void;
}

export class ContextBroker {
  private readonly live = new Map<string, Live>();
  private readonly sessions = new Map<string, GuestSession>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly key: KeyObject,
    /** The public key, PEM (SPKI): what every guest's seed carries to check the context's signature. */
    readonly publicKeyPem: string,
    private readonly options: BrokerOptions,
  ) {}

  /** Opens the broker on the store: its key (made on first use) and every cluster it holds, timers re-armed. */
  static async open(store: Store, clock: Clock, options: BrokerOptions = {}): Promise<ContextBroker> {
    let key = await store.brokerKey();
    if (!key) {
      const pair = generateKeyPairSync('ed25519');
      key = await store.keepBrokerKey({
        publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        createdAt: clock.now(),
      });
    }
    const broker = new ContextBroker(store, clock, createPrivateKey(key.privateKey), key.publicKey, options);
    for (const c of await store.listContexts()) {
      const rows = await store.contextMembers(c.leaseId);
      const live = broker.adopt(c.spec, rows);
      for (const row of rows) if (row.sessionHash) broker.sessions.set(row.sessionHash, { leaseId: c.leaseId, memberId: row.memberId });
      broker.arm(c.leaseId, live);
    }
    return broker;
  }

  /**
   * Registers a cluster as its VMs are deployed: one secret per member, to put in that member's
   * seed only. A lease registered already is left as it is (none are made): the service registers
   * again after a crash between deploying and registering, and seeds get fresh ones (issueSecret).
   */
  async register(r: Registration): Promise<Result<Array<{ memberId: string; secret: string }>>> {
    const problem = registrationProblem(r);
    if (problem) return refuse('invalid-request', `cluster context of lease ${r.leaseId}: ${problem}`);
    return this.serial(r.leaseId, async () => {
      if (this.live.has(r.leaseId)) return ok([]);
      const now = this.clock.now();
      const spec: ContextSpec = {
        leaseId: r.leaseId, ownerKeys: [...r.ownerKeys], roles: r.roles, members: r.members,
        timeouts: { ...DEFAULT_TIMEOUTS, ...r.timeouts }, registeredAt: now,
      };
      const secrets = r.members.map((m) => ({ memberId: m.id, secret: randomBytes(32).toString('base64url') }));
      const rows = secrets.map(({ memberId, secret }) => ({ leaseId: r.leaseId, memberId, secretHash: sha256(secret), sessionHash: null, progress: FRESH, updatedAt: now }));
      await this.store.transaction(() => this.store.putContext({ leaseId: r.leaseId, spec, createdAt: now }, rows));
      this.arm(r.leaseId, this.adopt(spec, rows));
      return ok(secrets);
    });
  }

  /**
   * A fresh secret for a member that has not exchanged one yet, replacing the one kept (its hash):
   * a seed is made each time its VM starts, and the broker keeps no secret it could put in it again.
   */
  async issueSecret(leaseId: string, memberId: string): Promise<Result<{ secret: string }>> {
    return this.serial(leaseId, async () => {
      const live = this.live.get(leaseId);
      const row = live?.rows.get(memberId);
      if (!live || !row) return refuse('not-found', `lease '${leaseId}' has no member '${memberId}' in its context: register the cluster first`);
      const p = progressOf(live, memberId);
      if (p.exchangedAt !== null) {
        return refuse('wrong-state', `member '${memberId}' of lease '${leaseId}' exchanged its secret at ${new Date(p.exchangedAt * 1000).toISOString()}: its agent holds a session, and a secret buys one session only`);
      }
      const secret = randomBytes(32).toString('base64url');
      const next = { ...row, secretHash: sha256(secret), updatedAt: this.clock.now() };
      await this.store.transaction(() => this.store.putContextMember(next));
      live.rows.set(memberId, next);
      return ok({ secret });
    });
  }

  /** The owner's view of a cluster's context, or null when the lease has none. */
  view(leaseId: string): ContextView | null {
    const live = this.live.get(leaseId);
    return live ? viewOf(live) : null;
  }

  /** Forgets a cluster's context (its lease ended): its sessions stop working. */
  async forget(leaseId: string): Promise<boolean> {
    return this.serial(leaseId, async () => {
      const live = this.live.get(leaseId);
      if (!live) return false;
      await this.store.deleteContext(leaseId);
      live.cancelTimer?.();
      for (const row of live.rows.values()) if (row.sessionHash) this.sessions.delete(row.sessionHash);
      this.live.delete(leaseId);
      return true;
    });
  }

  /** The member's secret for a session token: once only. */
  async exchange(leaseId: string, memberId: string, secret: string): Promise<Result<{ session: string }>> {
    const unknown = refuse('unauthorized', `no member '${memberId}' in the context of lease '${leaseId}' holds that secret: send the lease, member and secret of the seed as given`);
    return this.serial(leaseId, async () => {
      const live = this.live.get(leaseId);
      const row = live?.rows.get(memberId);
      if (!live || !row || !sameHash(row.secretHash, sha256(secret))) return unknown;
      await this.catchUp(leaseId, live);
      const p = progressOf(live, memberId);
      if (p.failedAt !== null) return refuse('wrong-state', `member '${memberId}' has failed: ${p.failure}`);
      if (p.exchangedAt !== null) {
        return refuse('unauthorized', `the secret of member '${memberId}' was already exchanged at ${new Date(p.exchangedAt * 1000).toISOString()}: a secret buys one session only, so a copy of the seed is useless; an agent that lost its session cannot get another (redeploy the member)`);
      }
      const session = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
      await this.commit(leaseId, live, new Map([[memberId, { ...p, exchangedAt: this.clock.now() }]]), { memberId, sessionHash: sha256(session) });
      return ok({ session });
    });
  }

  /** The session a guest's bearer token stands for, or null. */
  sessionOf(authorization: string | undefined): GuestSession | null {
    const m = /^Bearer\s+(vwsctx_\S+)$/i.exec(authorization ?? '');
    return m ? this.sessions.get(sha256(m[1])) ?? null : null;
  }

  /** What the member provides; said once (the same report again is answered as the first). */
  async report(s: GuestSession, provided: Provided): Promise<Result<{ reported: true }>> {
    return this.member(s, async (live, member, p) => {
      const problem = reportProblem(roleNamed(live, member.role), provided);
      if (problem) return refuse('invalid-request', problem, { path: problem.slice(0, problem.indexOf(':')) });
      if (isIP(provided.ip) === 0) return refuse('invalid-request', `ip: '${provided.ip}' is not an IPv4 or IPv6 address`, { path: 'ip' });
      if (member.ip !== undefined && provided.ip !== member.ip) {
        return refuse('invalid-request', `ip: '${provided.ip}' is not the address the service gave this member (${member.ip}): report that one`, { path: 'ip' });
      }
      if (provided.hostname.toLowerCase() !== member.hostname.toLowerCase()) {
        return refuse('invalid-request', `hostname: '${provided.hostname}' is not this member's host name ('${member.hostname}', set by its seed): report that one`, { path: 'hostname' });
      }
      if (p.reportedAt !== null) {
        if (JSON.stringify(p.provided) === JSON.stringify(normal(provided))) return ok({ reported: true as const });
        return refuse('wrong-state', `member '${member.id}' reported already, at ${new Date(p.reportedAt * 1000).toISOString()}, with other values: a member reports once`);
      }
      await this.commit(s.leaseId, live, new Map([[member.id, { ...p, reportedAt: this.clock.now(), provided: normal(provided) }]]));
      return ok({ reported: true as const });
    });
  }

  /** The member's context, signed, once every role is ready; else what it still waits for. */
  async context(s: GuestSession): Promise<Result<ContextAnswer>> {
    return this.member<ContextAnswer>(s, async (live, member, p) => {
      if (stepOf(p) === 'report') return refuse('wrong-state', `member '${member.id}' has not reported yet: POST /v1/context/report first`);
      const t = live.tally;
      if (!deliverable(live, member, t)) return ok({ ready: false, waitsFor: waitsFor(live, member, t) });
      const now = this.clock.now();
      live.members ??= membersJson(live);
      let tail = live.tails.get(member.role);
      if (!tail) live.tails.set(member.role, tail = roleTail(live, member.role));
      const payload = contextPayload(live, member, live.members, tail, now);
      if (p.deliveredAt === null) await this.commit(s.leaseId, live, new Map([[member.id, { ...p, deliveredAt: now }]]));
      return ok({ ready: true, payload, signature: sign(null, payload, this.key).toString('base64') });
    });
  }

  /** The member applied its context (ok) or could not (with why). */
  async done(s: GuestSession, success: boolean, reason: string | undefined): Promise<Result<{ step: string }>> {
    return this.member(s, async (live, member, p) => {
      const step = stepOf(p);
      if (success) {
        if (step === 'complete') return ok({ step });
        if (step !== 'done') return refuse('wrong-state', `member '${member.id}' has not received its context yet: GET /v1/context until it answers 200, apply it, then report done`);
        await this.commit(s.leaseId, live, new Map([[member.id, { ...p, doneAt: this.clock.now() }]]));
      } else {
        if (step === 'complete') return refuse('wrong-state', `member '${member.id}' reported success already`);
        const why = reason ?? 'no reason given';
        await this.commit(s.leaseId, live, new Map([[member.id, { ...p, failedAt: this.clock.now(), failure: `${member.hostname} failed: ${why}` }]]));
      }
      return ok({ step: stepOf(progressOf(live, member.id)) });
    });
  }

  /**
   * Resolves once nothing is queued for any cluster, what its deadline timers started included
   * (they run on their own, after the clock moved): tests wait on this before they read the store.
   */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  close(): void {
    this.closed = true;
    for (const live of this.live.values()) live.cancelTimer?.();
  }

  /** Runs fn for the session's member, after the rules have caught up with the clock; a failed member is told why. */
  private member<T>(s: GuestSession, fn: (live: Live, member: BrokerMember, p: MemberProgress) => Promise<Result<T>>): Promise<Result<T>> {
    return this.serial(s.leaseId, async () => {
      const live = this.live.get(s.leaseId);
      const member = live?.byId.get(s.memberId);
      if (!live || !member) return refuse('unauthorized', 'this session has ended (its cluster was forgotten)');
      await this.catchUp(s.leaseId, live);
      const p = progressOf(live, member.id);
      if (p.failedAt !== null) return refuse('wrong-state', `member '${member.id}' has failed: ${p.failure}`);
      return fn(live, member, p);
    });
  }

  private adopt(spec: ContextSpec, rows: ContextMemberRow[]): Live {
    const live: Live = {
      spec, progress: new Map(rows.map((r) => [r.memberId, r.progress])), byId: new Map(spec.members.map((m) => [m.id, m])),
      rows: new Map(rows.map((r) => [r.memberId, r])), cancelTimer: null, timerAt: null, members: null, tails: new Map(), tally: new Map(), status: 'pending',
    };
    live.tally = tallies(live);
    live.status = statusOf(live.tally);
    this.live.set(spec.leaseId, live);
    return live;
  }

  /** Applies the rules at the clock's time: timeouts and what follows from failures. */
  private async catchUp(leaseId: string, live: Live): Promise<void> {
    // Nothing is due before the next deadline: failures are followed up as they are committed.
    if (live.timerAt === null || this.clock.now() < live.timerAt) return;
    const changes = advance(live, this.clock.now());
    if (changes.size > 0) await this.commit(leaseId, live, changes);
  }

  /** Writes the changes (and what follows from them) in one transaction, then takes them in memory. */
  private async commit(leaseId: string, live: Live, changes: Map<string, MemberProgress>, session?: { memberId: string; sessionHash: string }): Promise<void> {
    const now = this.clock.now();
    const due = live.timerAt !== null && live.timerAt <= now;
    const failing = [...changes].some(([id, p]) => p.failedAt !== null && live.progress.get(id)!.failedAt === null);
    if (due || failing) {
      const next: ClusterContext = { spec: live.spec, progress: overlay(live.progress, changes) };
      for (const [id, p] of advance(next, now)) changes.set(id, p);
    }
    const rows = [...changes].map(([id, progress]) => ({
      ...live.rows.get(id)!, progress, updatedAt: now, ...(session?.memberId === id ? { sessionHash: session.sessionHash } : {}),
    }));
    await this.store.transaction(async () => { for (const row of rows) await this.store.putContextMember(row); });
    for (const row of rows) {
      const before = live.progress.get(row.memberId)!;
      if (before.reportedAt !== row.progress.reportedAt || before.failedAt !== row.progress.failedAt) {
        live.members = null;
        live.tails.clear();
      }
      const t = live.tally.get(live.byId.get(row.memberId)!.role)!;
      counted(t, before, -1);
      counted(t, row.progress, 1);
      live.rows.set(row.memberId, row);
      live.progress.set(row.memberId, row.progress);
      if (session?.memberId === row.memberId) this.sessions.set(session.sessionHash, { leaseId, memberId: row.memberId });
    }
    this.arm(leaseId, live);
    const status = statusOf(live.tally);
    if (status !== live.status) {
      live.status = status;
      if (status !== 'pending') this.options.onSettled?.(viewOf(live));
    }
  }

  /** Keeps one timer per cluster, at its next deadline. */
  private arm(leaseId: string, live: Live): void {
    const at = nextDeadline(live);
    if (at === live.timerAt || this.closed) return;
    live.cancelTimer?.();
    live.timerAt = at;
    live.cancelTimer = at === null ? null : this.clock.at(at, () => {
      live.cancelTimer = null;
      void this.serial(leaseId, async () => {
        if (this.live.get(leaseId) !== live) return;
        await this.catchUp(leaseId, live);
        // Re-armed whether or not anything changed: this timer has fired.
        live.timerAt = null;
        this.arm(leaseId, live);
      }).catch(() => { live.timerAt = null; this.arm(leaseId, live); });
    });
  }

  private serial<T>(leaseId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(leaseId) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.then(() => undefined, () => undefined);
    this.queues.set(leaseId, settled);
    void settled.then(() => { if (this.queues.get(leaseId) === settled) this.queues.delete(leaseId); });
    return run;
  }
}

/** The cluster's status from its roles' tallies, as viewOf says it. */
function statusOf(tally: Map<string, RoleTally>): ContextStatus {
  const roles = [...tally.values()].map(roleStatus);
  return roles.includes('failed') ? 'failed' : roles.every((r) => r === 'complete') ? 'complete' : 'pending';
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The report as kept: fields in one order, so that the same report sent again compares equal. */
function normal(p: Provided): Provided {
  return { ip: p.ip, hostname: p.hostname, hostKey: p.hostKey, entries: Object.fromEntries(Object.entries(p.entries).sort(([a], [b]) => (a < b ? -1 : 1))) };
}
