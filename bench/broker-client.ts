// The members of bench/broker.ts's cluster, in a process of their own so that the server's
// process spends its time on the server only: reads the lease and the secrets from a JSON file,
// does exchange → report for every member, then context → done, one request at a time, and
// prints one JSON line with the size of the last context. `URL health N` asks GET /v1/health N times.

import { readFileSync } from 'node:fs';

const [url, file, healthCount] = process.argv.slice(2);

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, text: await res.text() };
}

function expect(what: string, r: { status: number; text: string }): string {
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.text;
}

if (file === 'health') {
  // The baseline: GET /v1/health, the same way.
  for (let i = 0; i < Number(healthCount); i++) if ((await call('GET', '/v1/health')).status !== 200) throw new Error('health');
  process.exit(0);
}
const { leaseId, secrets } = JSON.parse(readFileSync(file, 'utf8')) as { leaseId: string; secrets: Array<{ memberId: string; secret: string }> };
const sessions = new Map<string, string>();
let contextBytes = 0;
for (const { memberId, secret } of secrets) {
  sessions.set(memberId, JSON.parse(expect('exchange', await call('POST', '/v1/context/exchange', { lease: leaseId, member: memberId, secret }))).session);
  const n = Number(memberId.split('-')[1]);
  expect('report', await call('POST', '/v1/context/report', {
    ip: `10.${Math.floor(n / 62500) % 256}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`, hostname: memberId,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(memberId).toString('base64').replace(/=/g, '')}${'A'.repeat(30)} root@${memberId}`,
    entries: memberId === 'head-0' ? { 'nfs-export': '10.0.0.1:/srv' } : {},
  }, sessions.get(memberId)));
}
for (const [memberId, session] of sessions) {
  contextBytes = expect(`context of ${memberId}`, await call('GET', '/v1/context', undefined, session)).length;
  expect('done', await call('POST', '/v1/context/done', { ok: true }, session));
}
process.stdout.write(`${JSON.stringify({ contextBytes })}\n`);
