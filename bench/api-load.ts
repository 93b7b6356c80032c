// The load generator of bench:api, in a process of its own: autocannon against one endpoint,
// printing a JSON line with throughput and latency percentiles.
import autocannon, { type Request } from 'autocannon';

const [url, token, kind, seconds, connections] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
let n = 0;

// Exact leases for one node at distinct future starts: each create is a real decision, and none is refused for want of room.
const body = (): string => JSON.stringify({ kind: 'exact', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 600, start: now + 3600 + (n++ % 100000) * 7 });

const path = kind === 'health' ? '/v1/health' : kind === 'quote' ? '/v1/leases/quote' : '/v1/leases';
const result = await autocannon({
  url: `${url}${path}`,
  connections: Number(connections),
  duration: Number(seconds),
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  method: kind === 'health' ? 'GET' : 'POST',
  requests: [{ setupRequest: (req: Request) => (kind === 'health' ? req : { ...req, body: body() }) }],
});
console.log(JSON.stringify({
  kind, requestsPerSecond: result.requests.average, total: result.requests.total, non2xx: result.non2xx, errors: result.errors,
  latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
}));
