// Sends the fuzz's steps to a world and holds, for each answer, what every answer must be: never a
// 5xx; a refusal in the API's one error format (a code of the table, the status the table gives
// it, a message cut short, never a framework's FST_ code); and, for the refusals it digests the
// store around, nothing changed. It learns what the accepted requests made (leases, images,
// users, nodes, tokens) so that later requests name them.

import { createHash, generateKeyPairSync } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { REFUSAL_STATUS } from '../../../src/api/refusal-status.ts';
import { signStatement } from '../../../src/drivers/image-statement.ts';
import type { ApiWorld } from '../api-world.ts';
import { headRole, KEY_LINES, workerRole } from '../cluster-body.ts';
import { URL_MUTATIONS } from './mutations.ts';
import { FLOWS, type FuzzRequest, type Role, type Step } from './request-generator.ts';
import { isPlaceholder, type Pool } from './schema-arbitraries.ts';
import type { Tally } from './tally.ts';

/** The bytes the fuzz uploads as image content; images registered with their sha256 can be uploaded. */
export const CONTENTS = [0, 1, 2, 3].map((n) => Buffer.from(`content ${n}`));
/** A provider's key: the image flow attaches a statement it signed about the content. */
const PROVIDER_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export interface DigestPlan {
  /** Every request among the first `first` is digested around; after that, one in `every`. */
  first: number;
  every: number;
}

const LONGEST_MESSAGE = 1000 + 60;

/** The lease as a cluster of a head and `workers` workers: its image (if any) goes to the head. */
function asCluster(lease: Record<string, unknown>, workers: number): void {
  const image = lease.image === undefined ? {} : { image: lease.image };
  for (const field of ['nodes', 'cpu', 'memoryMiB', 'image']) delete lease[field];
  Object.assign(lease, {
    roles: [headRole({ ...image, cpu: 1, memoryMiB: 1024 }), workerRole({ count: workers, cpu: 1, memoryMiB: 512 })],
    userData: '#cloud-config\nruncmd: [[touch, /tmp/up]]\n', sshPublicKeys: [KEY_LINES[0]],
  });
}

export class FuzzRunner {
  readonly pools: Record<Pool, string[]> = {
    lease: [], occurrence: [], image: [], user: ['alice', 'bob', 'carol', 'admin'], group: ['lab'], node: [], token: [],
    sha256: CONTENTS.map((c) => createHash('sha256').update(c).digest('hex')),
  };
  private sent = 0;
  private addedNodes = 0;
  private flowNodes = 0;

  constructor(readonly world: ApiWorld, readonly tally: Tally, readonly plan: DigestPlan) {}

  async init(): Promise<void> {
    this.pools.node = (await this.world.store.listNodes()).map((n) => n.id);
  }

  async step(step: Step): Promise<void> {
    if (step.type === 'request') return void (await this.send(step.request));
    if (step.type === 'advance') return this.advance(step.seconds);
    if (step.type === 'flow') return this.flow(step);
    const now = this.world.clock.now();
    const lease: Record<string, unknown> = { kind: step.kind, nodes: step.nodes, cpu: 1, memoryMiB: 1024, duration: step.duration };
    if (step.kind === 'exact' || step.kind === 'periodic') lease.start = now + step.offset;
    if (step.kind === 'deadline') Object.assign(lease, { start: now + (step.offset >> 2), deadline: now + step.offset + step.duration * 2 });
    if (step.kind === 'periodic') lease.recurrence = { period: step.duration + 600, count: 2 + (step.offset % 2) };
    if (step.shared && step.who !== 'bob') lease.group = 'lab';
    if (step.image !== null && this.pools.image.length > 0) lease.image = this.pools.image[step.image % this.pools.image.length];
    if (step.cluster) asCluster(lease, step.nodes);
    const path = step.hold ? '/v1/leases/hold' : '/v1/leases';
    const op = { method: 'POST', path, role: 'user' as const, params: [], query: {}, body: null };
    await this.send({
      op, role: step.who, params: {}, query: {}, urlMutation: null, authorization: null, idempotencyKey: null,
      body: { body: { kind: 'json', value: step.hold ? { lease, ttl: 600 } : lease }, mutation: 'valid-lease' },
    });
  }

  /**
   * Each flow once on the fresh pool, where each can succeed: a run whose random state never lets
   * a lease be moved (a full pool, no running best-effort lease) still checks that route's success.
   */
  async warmUp(): Promise<void> {
    await this.step({ type: 'lease', kind: 'best-effort', who: 'bob', hold: false, shared: false, nodes: 1, duration: 3600, offset: 60, image: null });
    await this.advance(1);
    for (const flow of FLOWS) await this.flow({ type: 'flow', flow, who: 'bob', n: 0 });
    // A second back-end is asked for once by the one owner with an account there: whether the
    // random requests reach it is left to the seed (one CI seed in 2026-12 sent none there).
    if (this.world.service.backendNames.includes('cloud')) {
      const made = await this.valid('alice', 'POST', '/v1/leases', {}, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 600, backend: 'cloud' });
      if (!made?.lease?.id) throw new Error('the warm-up lease alice asked of the cloud back-end was refused');
    }
  }

  /** A valid sequence (FLOWS), each request sent and checked as any other. */
  private async flow(step: Extract<Step, { type: 'flow' }>): Promise<void> {
    const { who, n } = step;
    if (step.flow === 'hold-commit') {
      const start = this.world.clock.now() + 60 + (n % 3600);
      const held = await this.valid(who, 'POST', '/v1/leases/hold', {}, { lease: { kind: 'exact', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 600, start }, ttl: 600 });
      if (held?.lease?.id) await this.valid(who, 'POST', '/v1/leases/{id}/commit', { id: held.lease.id });
    } else if (step.flow === 'image-round-trip') {
      const content = CONTENTS[n % CONTENTS.length];
      const name = `flow-${who}-${n}`;
      const made = await this.valid(who, 'POST', '/v1/images', {}, { name, sizeMiB: 1, sha256: this.pools.sha256[n % CONTENTS.length] });
      if (!made) return;
      await this.valid(who, 'PUT', '/v1/images/{name}/content', { name }, content);
      await this.valid(who, 'GET', '/v1/images/{name}/content', { name });
      const subject = { name, sha256: this.pools.sha256[n % CONTENTS.length], sizeBytes: content.length };
      await this.valid(who, 'POST', '/v1/images/{name}/statements', { name }, signStatement({ subject, claims: { patched: { value: '2026-12-01' } }, issuedAt: '2026-12-01T00:00:00Z' }, PROVIDER_KEY));
    } else {
      // Only these kinds move (a reservation keeps its nodes), and only to nodes open to work.
      const running = (await this.world.store.listLeases({ status: 'running' })).filter((l) => l.nodes.length > 0 && (l.kind === 'best-effort' || l.kind === 'deadline'));
      if (running.length === 0) return;
      const moving = running[n % running.length];
      // Nodes with nothing on them and the pool's usual size, of the lease's own back-end (a lease never
      // moves between back-ends). The pool is mostly full: an administrator adds one to move a lease to
      // (a few at most, so that the pool keeps its size and its refusals).
      const backend = this.world.service.backendOfLease(moving.id);
      const idle = async (): Promise<string[]> => (await this.world.store.listNodes())
        .filter((node) => node.status === 'active' && node.cpu >= 1 && node.memoryMiB >= 1024 && !moving.nodes.includes(node.id) && this.world.service.pool.leasesOnNode(node.id).length === 0)
        .filter((node) => this.world.service.backendOfNode(node.id) === backend)
        .map((node) => node.id);
      let others = await idle();
      if (others.length < moving.nodes.length && this.flowNodes < 8) {
        const id = `m${++this.flowNodes}`;
        await this.valid('admin', 'POST', '/v1/nodes', {}, { id, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
        others = await idle();
      }
      if (others.length < moving.nodes.length) return;
      await this.valid('admin', 'POST', '/v1/leases/{id}/migrate', { id: moving.id }, { nodes: others.slice(n % (others.length - moving.nodes.length + 1)).slice(0, moving.nodes.length) });
    }
  }

  /** Sends one request of a flow as `who`; its JSON answer when accepted, else null. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read by route
  private async valid(who: Role, method: string, path: string, params: Record<string, string>, body?: unknown): Promise<any> {
    const role = who === 'admin' ? 'admin' as const : 'user' as const;
    const op = { method, path, role, params: Object.keys(params), query: {}, body: null };
    const plan = body === undefined ? { kind: 'none' as const } : Buffer.isBuffer(body) ? { kind: 'raw' as const, payload: body, contentType: 'application/octet-stream' } : { kind: 'json' as const, value: body };
    const res = await this.send({
      op, role: who, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { junk: encodeURIComponent(v) }])),
      query: {}, urlMutation: null, authorization: null, idempotencyKey: null, body: { body: plan, mutation: 'valid-flow' },
    });
    return res && res.statusCode < 300 && String(res.headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(res.body) : res && res.statusCode < 300 ? {} : null;
  }

  /** The clock moves on; the service is brought to the new instant before the next request, so that its catching up is no request's doing. */
  async advance(seconds: number): Promise<void> {
    this.world.clock.advance(seconds);
    this.tally.figures.clockAdvances++;
    await this.world.service.quote({ id: 'l-sync', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: true });
    await this.world.idle();
  }

  private resolve(v: unknown): unknown {
    if (isPlaceholder(v)) {
      if ('$now' in v) return this.world.clock.now() + v.$now;
      if (v.$pick === 'occurrence') {
        const base = this.pools.occurrence;
        return base.length === 0 ? 'l-none#1' : `${base[v.n % base.length]}#${1 + (v.n % 3)}`;
      }
      const pool = this.pools[v.$pick];
      return pool.length === 0 ? `no-${v.$pick}` : pool[v.n % pool.length];
    }
    if (Array.isArray(v)) return v.map((x) => this.resolve(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.resolve(x)]));
    return v;
  }

  private urlOf(req: FuzzRequest): string {
    let path = req.op.path;
    for (const [name, value] of Object.entries(req.params)) {
      const text = 'junk' in value ? value.junk : encodeURIComponent(String(this.resolve(value)));
      path = path.replace(`{${name}}`, text);
    }
    const query = new URLSearchParams(Object.entries(this.resolve(req.query) as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const url = query ? `${path}?${query}` : path;
    return req.urlMutation === null ? url : URL_MUTATIONS[req.urlMutation].apply(url);
  }

  private authorization(role: Role, bad: string | null): string | undefined {
    if (role === 'anonymous') return undefined;
    if (role === 'bad-token') return bad ?? 'Bearer vws_nope';
    return `Bearer ${this.world.tokens[role]}`;
  }

  private async send(req: FuzzRequest): Promise<LightMyRequestResponse | null> {
    const url = this.urlOf(req);
    const headers: Record<string, string> = {};
    const auth = this.authorization(req.role, req.authorization);
    if (auth !== undefined) headers.authorization = auth;
    if (req.idempotencyKey !== null) headers['idempotency-key'] = req.idempotencyKey;
    let payload: string | Buffer | undefined;
    const b = req.body.body;
    if (b.kind === 'json') {
      payload = JSON.stringify(this.resolve(b.value)) ?? 'null';
      headers['content-type'] = 'application/json';
    } else if (b.kind === 'raw') {
      payload = b.payload;
      if (b.contentType !== null) headers['content-type'] = b.contentType;
    }
    const mutations = [req.body.mutation, req.urlMutation !== null ? URL_MUTATIONS[req.urlMutation].name : null, req.role === 'bad-token' ? 'bad-authorization' : null, req.idempotencyKey !== null ? 'idempotency-key' : null]
      .filter((m): m is string => m !== null);
    const digested = this.sent < this.plan.first || this.sent % this.plan.every === 0;
    this.sent++;
    await this.world.idle();
    const commitsBefore = await this.world.digest.commits();
    const before = digested ? await this.world.digest.tables() : null;
    const lastEvent = digested ? await this.world.store.lastEventId() : null;
    let res: LightMyRequestResponse;
    try {
      res = await this.world.app.inject({ method: req.op.method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
    } catch (e) {
      // Node refuses to build some requests (a header it deems invalid): nothing reached the server.
      this.tally.notSent((e as { code?: string }).code ?? 'error');
      return null;
    }
    const route = `${req.op.method} ${req.op.path}`;
    const what = `${route} as ${req.role} [${mutations.join(', ') || 'valid'}]: ${req.op.method} ${url.slice(0, 300)} ${String(payload ?? '').slice(0, 300)}`;
    const code = this.checkAnswer(res, what);
    const refused = res.statusCode >= 400;
    if (refused) {
      await this.world.idle();
      const after = before !== null ? await this.world.digest.tables() : null;
      const tablesChanged = after ? Object.keys({ ...before, ...after }).filter((t) => before![t] !== after[t]) : [];
      const changed = (commitsBefore !== null && (await this.world.digest.commits()) !== commitsBefore) || tablesChanged.length > 0;
      if (changed) {
        // Which events came, and when they say they were made: what wrote them, if not this request.
        const events = lastEvent === null ? [] : (await this.world.store.eventsAfter(lastEvent, 5)).map((e) => ({ type: e.type, leaseId: e.leaseId, time: e.time, data: JSON.stringify(e.data).slice(0, 200) }));
        throw new Error(`a refused request changed the store (${res.statusCode} ${code}): ${what}\ntables changed: ${tablesChanged.join(', ') || '(a commit, seen by the commit counter)'}; rows now: ${JSON.stringify(await this.world.digest.counts())}; events since: ${JSON.stringify(events)}`);
      }
    }
    this.tally.answered(route, req.role, mutations, res.statusCode, code, { digested: refused && before !== null, commitsWatched: refused && commitsBefore !== null });
    if (!refused) await this.learn(req, url, res);
    return res;
  }

  /** The answer's error code, after holding what every answer must be. */
  private checkAnswer(res: LightMyRequestResponse, what: string): string | null {
    if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${what}\n${res.body.slice(0, 2000)}`);
    if (res.body.includes('FST_')) throw new Error(`a framework's code in the answer to ${what}: ${res.body.slice(0, 500)}`);
    if (res.statusCode < 400) return null;
    const type = String(res.headers['content-type'] ?? '');
    if (!type.startsWith('application/json')) throw new Error(`a ${res.statusCode} answered as ${type} to ${what}: ${res.body.slice(0, 500)}`);
    const body = JSON.parse(res.body) as { code?: string; message?: unknown };
    const table = REFUSAL_STATUS as Record<string, number>;
    if (typeof body.code !== 'string' || !(body.code in table)) throw new Error(`an unknown error code '${body.code}' for ${what}`);
    if (table[body.code] !== res.statusCode) throw new Error(`code ${body.code} answered with ${res.statusCode}, not its ${table[body.code]}, for ${what}`);
    if (typeof body.message !== 'string' || body.message.length === 0) throw new Error(`no message for ${what}: ${res.body.slice(0, 500)}`);
    if (body.message.length > LONGEST_MESSAGE) throw new Error(`a message of ${body.message.length} characters for ${what}`);
    return body.code;
  }

  /** What an accepted request made, for later requests to name; and what keeps the run's roles alive. */
  private async learn(req: FuzzRequest, url: string, res: LightMyRequestResponse): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read by route
    const body: any = String(res.headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(res.body) : null;
    const route = `${req.op.method} ${req.op.path}`;
    const add = (pool: Pool, value: unknown): void => {
      if (typeof value === 'string' && !this.pools[pool].includes(value)) this.pools[pool].push(value);
    };
    if ((route === 'POST /v1/leases' || route === 'POST /v1/leases/hold') && body?.lease) {
      add('lease', body.lease.id);
      if (body.lease.kind === 'periodic') add('occurrence', body.lease.id);
    }
    if (route === 'POST /v1/images') add('image', body?.name);
    if (route === 'POST /v1/users') add('user', body?.name);
    if (route === 'POST /v1/groups') add('group', body?.name);
    if (route === 'POST /v1/nodes') add('node', body?.id);
    if (route === 'POST /v1/users/{id}/tokens') add('token', body?.id);
    // The run's own users stay usable: one disabled, or taken out of lab, is put back at once. Who
    // was disabled is read from the answer: a mutated URL (b%6Fb) names bob too, and the URL's text did not.
    const disabled = route === 'POST /v1/users/{id}/disable' && ['alice', 'bob', 'carol'].includes(body?.id) ? body.id as string : null;
    if (disabled) await this.repair('POST', `/v1/users/${disabled}/enable`);
    const left = /^\/v1\/groups\/lab\/members\/(alice|carol)$/.exec(url);
    if (route === 'DELETE /v1/groups/{name}/members/{user}' && left) await this.repair('POST', '/v1/groups/lab/members', { user: left[1] });
    if (route === 'POST /v1/nodes/{id}/drain' || route === 'POST /v1/nodes/{id}/evacuate' || route === 'DELETE /v1/nodes/{id}') {
      const active = (await this.world.store.listNodes()).filter((n) => n.status === 'active').length;
      if (active < 3) {
        const id = `r${++this.addedNodes}`;
        await this.repair('POST', '/v1/nodes', { id, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
        add('node', id);
      }
    }
  }

  private async repair(method: string, url: string, body?: unknown): Promise<void> {
    const res = await this.world.call(this.world.tokens.admin, method, url, body);
    if (res.status >= 300) throw new Error(`the run could not repair itself: ${method} ${url} answered ${res.status} ${JSON.stringify(res.body)}`);
    this.tally.figures.repairs++;
  }
}
