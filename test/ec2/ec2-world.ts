// A real `vws serve --ec2-listen` (simulated pool) with two users, ann and bob, each with an EC2
// access key from the REST API, and a public image in the catalogue: what the EC2 front-end's
// end-to-end tests, fuzz run and bench start from.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { BOOTSTRAP_TOKEN, freePort, type RealServer, startServer } from '../cli/client/real-server.ts';

/** A REST answer's JSON, read by the tests field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked by the assertions that read them
type Json = any;

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Ec2World {
  server: RealServer;
  rest: string;
  endpoint: string;
  ann: Keys;
  bob: Keys;
  imageName: string;
  /** An admin's REST call. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

export async function ec2World(nodes = 4, extra: string[] = []): Promise<Ec2World> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-ec2-'));
  const [port, ec2Port] = [await freePort(), await freePort()];
  const server = await startServer(join(dir, 'data'), port, ['--nodes', String(nodes), '--ec2-listen', `127.0.0.1:${ec2Port}`, ...extra]);
  const rest = server.url;
  const call = async (method: string, path: string, body?: unknown, token = BOOTSTRAP_TOKEN) => {
    const r = await fetch(`${rest}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : Buffer.isBuffer(body) ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const keys: Record<string, Keys> = {};
  for (const name of ['ann', 'bob']) {
    await call('POST', '/v1/users', { name });
    const made = await call('POST', `/v1/users/${name}/ec2-credentials`);
    if (made.status !== 201) throw new Error(`ec2-credentials answered ${made.status}: ${JSON.stringify(made.body)}`);
    keys[name] = { accessKeyId: made.body.accessKeyId, secretAccessKey: made.body.secretAccessKey };
  }
  const content = randomBytes(1024 * 1024);
  const imageName = 'debian-12';
  await call('POST', '/v1/images', { name: imageName, sizeMiB: 1, sha256: createHash('sha256').update(content).digest('hex'), visibility: 'public' });
  const up = await call('PUT', `/v1/images/${imageName}/content`, content);
  if (up.status !== 200) throw new Error(`image upload answered ${up.status}`);
  return {
    server, rest, endpoint: `http://127.0.0.1:${ec2Port}/ec2`, ann: keys.ann, bob: keys.bob, imageName,
    call: (m, p, b) => call(m, p, b),
    async close() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Buffer =>
  (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));

/** node:crypto as the signer's hash (the SDK's own hash package is not a dependency of ours). */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

export interface RawAnswer {
  status: number;
  text: string;
  /** The <Code> of an error answer. */
  code: string | null;
}

/**
 * A Query API request signed by the SDK's own SigV4 signer (a real client's signature), with
 * the form body as given: for requests the SDK would not send (an unknown action, a parameter it
 * does not know). `tamper` changes the signed request before it is sent.
 */
export async function signedQuery(endpoint: string, keys: Keys, params: Record<string, string>, o: { date?: Date; region?: string; tamper?: (r: { headers: Record<string, string>; body: string }) => void } = {}): Promise<RawAnswer> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  const signer = new SignatureV4({ credentials: keys, region: o.region ?? 'vws', service: 'ec2', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  }, { signingDate: o.date ?? new Date() });
  const sent = { headers: { ...signed.headers } as Record<string, string>, body };
  o.tamper?.(sent);
  return rawPost(endpoint, sent.headers, sent.body);
}

export function rawPost(endpoint: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every lease, as the admin sees them: what a refused request must leave as it was. */
export async function leaseDigest(w: Ec2World): Promise<string> {
  const r = await w.call('GET', '/v1/leases?limit=1000');
  return JSON.stringify(r.body.leases.map((l: { id: string; status: string; nodes: string[] }) => [l.id, l.status, l.nodes]));
}
