// npm run bench:cluster-api — what taking a cluster costs the API: POST /v1/leases/quote of a
// cluster of a head and two workers, and of the largest cluster body the API takes (16 roles,
// 16 ssh keys, 16 KiB of user-data), each against the baseline measured in the same run: a quote
// of a plain lease of the same three VMs (and, for the largest body, of a plain lease of its 16 VMs:
// the scheduler's part grows with the VMs, the API's with the body). In process (Fastify's inject: no sockets), on a real
// SQLite file, rounds interleaved so that drift in the machine's load falls on all three alike.
import { mkdirSync, writeFileSync } from 'node:fs';
import { apiWorld } from '../test/api/api-world.ts';
import { cluster, headRole, KEY_LINES, keyLine } from '../test/api/cluster-body.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 200);

const bodies: Record<string, unknown> = {
  plain: { kind: 'best-effort', duration: 3600, nodes: 3, cpu: 1, memoryMiB: 512 },
  'cluster 1+2': cluster(),
  'plain x16': { kind: 'best-effort', duration: 3600, nodes: 16, cpu: 0.01, memoryMiB: 1 },
  'largest body': cluster({
    roles: Array.from({ length: 16 }, (_, i) => headRole({ name: `r${i}`, cpu: 0.01, memoryMiB: 1, provides: Array.from({ length: 8 }, (_, k) => `e${k}`), requires: i > 0 ? Array.from({ length: 8 }, (_, k) => `r${i - 1}.e${k}`) : [] })),
    userData: `#cloud-config\n${'# '.repeat(8190)}`.slice(0, 16 * 1024),
    sshPublicKeys: [...KEY_LINES, ...Array.from({ length: 13 }, (_, i) => keyLine('ssh-ed25519', [Buffer.alloc(32, i)]))],
  }),
};

// 16 nodes: the largest body's 16 VMs fit even when the core places a cluster one VM per node.
const w = await apiWorld(16);
const quote = async (body: unknown): Promise<void> => {
  const res = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', body);
  if (res.status !== 200 || res.body.ok !== true) throw new Error(`quote answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(bodies).map((k) => [k, []]));
try {
  for (const body of Object.values(bodies)) for (let i = 0; i < 50; i++) await quote(body); // warm-up, not measured
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, body] of Object.entries(bodies)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < PER_ROUND; i++) await quote(body);
      samples[name].push(Number(process.hrtime.bigint() - t0) / 1e3 / PER_ROUND);
    }
  }
} finally {
  await w.close();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The plain lease of as many VMs as each body asks for. */
const SAME_VMS: Record<string, string> = { plain: 'plain', 'cluster 1+2': 'plain', 'plain x16': 'plain x16', 'largest body': 'plain x16' };
const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
const results = Object.entries(samples).map(([name, xs]) => ({
  body: name, bytes: Buffer.byteLength(JSON.stringify(bodies[name])), medianMicroseconds: Math.round(median(xs)),
  overPlain: ratio(median(xs), median(samples.plain)), overPlainOfSameVms: ratio(median(xs), median(samples[SAME_VMS[name]])),
  roundsMicroseconds: xs.map((x) => Math.round(x)),
}));
for (const r of results) console.log(`${r.body.padEnd(13)} ${String(r.bytes).padStart(6)} bytes  quote ${r.medianMicroseconds} µs  x${r.overPlain} plain (3 VMs)  x${r.overPlainOfSameVms} plain of as many VMs`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/cluster-api.json', import.meta.url), `${JSON.stringify({ rounds: ROUNDS, perRound: PER_ROUND, baseline: 'quote of a plain lease of 3 VMs (overPlain), and of a plain lease of as many VMs (overPlainOfSameVms)', results }, null, 2)}\n`);
