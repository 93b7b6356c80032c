// npm run bench:admission — what the site's terms cost each create: creates per second of a
// LeaseService on a SQLite file, with 1,000 nodes and LIVE live leases of one group, under the
// default terms (the baseline, measured in the same run), under terms with kind limits and quotas,
// and with the group's allocation checked as well (its balance is metered from every lease of the
// group at each admission). Rounds interleave the cases; medians. Writes bench/results/admission.json.
// usage: node --import tsx bench/admission.ts [LIVE=10000] [CREATES=400] [ROUNDS=3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../src/core/config.ts';
import { readTerms } from '../src/core/terms-document.ts';
import type { Terms } from '../src/core/terms.ts';
import type { LeaseRequest } from '../src/core/types.ts';
import { ManualClock } from '../src/control/clock.ts';
import { LeaseService } from '../src/control/lease-service.ts';
import { SimulatedDriver } from '../src/drivers/simulated/simulated-driver.ts';
import { openStore } from '../src/store/open-store.ts';

const LIVE = Number(process.argv[2] ?? 10_000);
const CREATES = Number(process.argv[3] ?? 400);
const ROUNDS = Number(process.argv[4] ?? 3);
const T0 = 1_800_000_000;

const read = (doc: object): Terms => {
  const r = readTerms({ format: 'vws.terms/v1', ...doc });
  if (!r.ok) throw new Error(`${r.path}: ${r.message}`);
  return r.terms;
};
const LIMITS = { kinds: { 'best-effort': { maxNodes: 64, maxDuration: '7d' }, exact: { maxNodes: 16 } }, quotas: { perUser: { cpus: 1e8 }, perGroup: { cpus: 1e8 } } };
const cases: Array<{ name: string; terms: Terms | null }> = [
  { name: 'default terms', terms: null },
  { name: 'kind limits and quotas', terms: read(LIMITS) },
  { name: 'and an allocation', terms: read({ ...LIMITS, accounts: { bench: { allocation: 1e12, period: 'month' } } }) },
];

const lease = (id: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 86_400, nodes: 1, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true });

async function run(terms: Terms | null, round: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-bench-admission-'));
  const store = await openStore(join(dir, 'vws.db'));
  await store.putUser({ id: 'u', name: 'u', isAdmin: false, createdAt: T0 });
  await store.putGroup({ name: 'bench', shareLeases: true, createdAt: T0 });
  await store.addMember('bench', 'u');
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const service = await LeaseService.open({ store, backends: [{ name: driver.name, driver }], clock: new ManualClock(T0), config: configWith({}) });
  try {
    if (terms) await service.setTerms(terms, 'bench');
    for (let i = 0; i < 1000; i++) await service.pool.addNode({ id: `n${i}`, cpu: 16, memoryMiB: 65_536, diskMiB: 0 });
    for (let i = 0; i < LIVE; i += 16) {
      await Promise.all(Array.from({ length: Math.min(16, LIVE - i) }, (_, k) => service.create('u', 'bench', lease(`pre-${round}-${i + k}`))));
    }
    const started = process.hrtime.bigint();
    for (let i = 0; i < CREATES; i += 16) {
      const made = await Promise.all(Array.from({ length: Math.min(16, CREATES - i) }, (_, k) => service.create('u', 'bench', lease(`m-${round}-${i + k}`))));
      for (const m of made) if (!m.ok) throw new Error(`a measured create was refused: ${m.message}`);
    }
    return CREATES / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await service.close();
    await driver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rates: number[][] = cases.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (let c = 0; c < cases.length; c++) rates[c].push(await run(cases[c].terms, round));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates[0]);
const results = cases.map((c, k) => ({ case: c.name, createsPerSecond: Math.round(median(rates[k])), ratioToDefault: Math.round((median(rates[k]) / base) * 1000) / 1000, rounds: rates[k].map(Math.round) }));
for (const r of results) console.log(`${r.case.padEnd(24)} ${String(r.createsPerSecond).padStart(6)} creates/s  x${r.ratioToDefault.toFixed(3)} of the default terms' (rounds: ${r.rounds.join(', ')})`);
mkdirSync(new URL('./results/', import.meta.url).pathname, { recursive: true });
writeFileSync(new URL('./results/admission.json', import.meta.url).pathname, `${JSON.stringify({ live: LIVE, creates: CREATES, rounds: ROUNDS, results }, null, 2)}\n`);
