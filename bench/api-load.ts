// The load generator of bench:api, in a process of its own: autocannon against one endpoint,
// printing a JSON line with throughput and latency percentiles. Only answers of the status the
// endpoint gives when it does its work count; any other answer fails the run (exit 1), since a
// refusal is cheaper than a decision and would flatter the figures.
import { readFileSync } from 'node:fs';
import autocannon, { type Request } from 'autocannon';

const [url, token, kind, seconds, connections, leaseFile] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
let n = 0;

// Exact leases for one node at distinct future starts: each create is a real decision, and none is refused for want of room.
const body = (): string => JSON.stringify({ kind: 'exact', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 600, start: now + 3600 + (n++ % 100000) * 7 });

// Changes go round the running leases: each is shortened by a minute, then given it back, so that
// every change is a real plan (in place, on its node) and none is refused for want of room.
const leases: string[] = leaseFile ? JSON.parse(readFileSync(leaseFile, 'utf8')) : [];
const turns = new Map<string, number>();
const changeOf = (): { path: string; body: string } => {
  const id = leases[n++ % leases.length];
  const turn = turns.get(id) ?? 0;
  turns.set(id, turn + 1);
  return { path: `/v1/leases/${id}/${kind}`, body: JSON.stringify({ duration: turn % 2 === 0 ? 86400 - 60 : 86400 }) };
};
const changing = kind === 'quote-change' || kind === 'change';
if (changing && leases.length === 0) throw new Error(`bench:api ${kind}: no running leases to change`);

const path = kind === 'health' ? '/v1/health' : kind === 'quote' ? '/v1/leases/quote' : '/v1/leases';
const expectedStatus = kind === 'create' ? 201 : 200;
const result = await autocannon({
  url: `${url}${path}`,
  connections: Number(connections),
  duration: Number(seconds),
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  method: kind === 'health' ? 'GET' : 'POST',
  requests: [{ setupRequest: (req: Request) => (kind === 'health' ? req : changing ? { ...req, ...changeOf() } : { ...req, body: body() }) }],
});
const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats as Record<string, { count: number }>).map(([status, s]) => [status, s.count]));
const expected = byStatus[expectedStatus] ?? 0;
const unexpected = Object.entries(byStatus).filter(([status]) => Number(status) !== expectedStatus);
console.log(JSON.stringify({
  // Per second of the run as autocannon timed it: autocannon's own requests.average counts every answer.
  kind, expectedStatus, requestsPerSecond: expected / result.duration, total: expected, byStatus, errors: result.errors, timeouts: result.timeouts,
  // autocannon records the latency of 2xx answers only.
  latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
}));
if (unexpected.length > 0 || result.errors > 0 || result.timeouts > 0) {
  const what = [...unexpected.map(([status, count]) => `${count} answered ${status}`), ...(result.errors ? [`${result.errors} errors`] : []), ...(result.timeouts ? [`${result.timeouts} timeouts`] : [])];
  console.error(`bench:api ${kind}: ${what.join(', ')} (of ${expected + unexpected.reduce((a, [, c]) => a + c, 0)} answers; only ${expectedStatus} was expected): the run is void; see the server's log for why`);
  process.exit(1);
}
