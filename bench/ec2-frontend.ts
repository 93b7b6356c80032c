// npm run bench:ec2-frontend — RunInstances through the EC2 front-end (@aws-sdk/client-ec2, as
// a client would) until DescribeInstances shows the instance running, against the native
// POST /v1/leases until GET /v1/leases/{id} shows it and its VM running, in the same run on the same
// `vws serve --ec2-listen` (simulated pool, SQLite): one at a time, alternating the two, for
// latency (p50/p99), then CONCURRENCY at a time of each, for launches per second. Writes
// bench/results/ec2-frontend.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ec2World } from '../test/ec2/ec2-world.ts';

const root = new URL('..', import.meta.url).pathname;
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 200);
const CONCURRENCY = 8;
const NODES = 400;
/** How often each client looks at the state again while it waits for running. */
const POLL_MS = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(ms: number[]): { n: number; p50: number; p99: number; mean: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(at(0.5)), p99: r(at(0.99)), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function main(): Promise<void> {
  const w = await ec2World(NODES, ['--node-cpu', '16', '--node-memory', '65536']);
  try {
    const ec2 = new EC2Client({ endpoint: w.endpoint, region: 'vws', credentials: w.ann, maxAttempts: 1 });
    const ami = (await ec2.send(new DescribeImagesCommand({}))).Images![0].ImageId!;
    // The native side as ann too, with a token of hers.
    const token = (await w.call('POST', '/v1/users/ann/tokens', { label: 'bench' })).body.token as string;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ kind: 'immediate', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 86400, image: w.imageName });

    // The launch call alone too: the front-end's own cost, without the VM's start delay that dominates the rest.
    const calls = { ec2: [] as number[], native: [] as number[] };
    const viaEc2 = async (): Promise<number> => {
      const t0 = performance.now();
      const run = await ec2.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
      calls.ec2.push(performance.now() - t0);
      const id = run.Instances![0].InstanceId!;
      for (;;) {
        const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
        if (d.Reservations![0].Instances![0].State!.Name === 'running') return performance.now() - t0;
        await sleep(POLL_MS);
      }
    };
    const native = async (): Promise<number> => {
      const t0 = performance.now();
      const made = await fetch(`${w.rest}/v1/leases`, { method: 'POST', headers, body });
      if (made.status !== 201) throw new Error(`POST /v1/leases: ${made.status} ${await made.text()}`);
      const id = ((await made.json()) as { lease: { id: string } }).lease.id;
      calls.native.push(performance.now() - t0);
      for (;;) {
        // Running as EC2 says it: the lease running and its VM too (the simulated VM spends its start delay first).
        const l = (await (await fetch(`${w.rest}/v1/leases/${id}`, { headers })).json()) as { status: string; workspaces: { status: string }[] };
        if (l.status === 'running' && l.workspaces.length === 1 && l.workspaces[0].status === 'running') return performance.now() - t0;
        await sleep(POLL_MS);
      }
    };

    // Warm-up (not measured): both paths once, so neither pays for first-use costs.
    await viaEc2();
    await native();
    calls.ec2.length = 0;
    calls.native.length = 0;
    const latency = { ec2: [] as number[], native: [] as number[] };
    for (let i = 0; i < LAUNCHES; i++) {
      latency.ec2.push(await viaEc2());
      latency.native.push(await native());
    }
    const throughput = async (one: () => Promise<number>): Promise<number> => {
      const t0 = performance.now();
      let left = LAUNCHES;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await one();
      }));
      return Math.round((LAUNCHES / ((performance.now() - t0) / 1000)) * 10) / 10;
    };
    const callStats = { ec2: stats(calls.ec2), native: stats(calls.native) };
    const perSecond = { ec2: await throughput(viaEc2), native: await throughput(native) };
    const ec2Stats = stats(latency.ec2);
    const nativeStats = stats(latency.native);
    const result = {
      bench: 'ec2-frontend',
      when: new Date().toISOString(),
      setup: { nodes: NODES, nodeCpu: 16, driver: 'simulated', store: 'sqlite', launches: LAUNCHES, concurrency: CONCURRENCY, pollMs: POLL_MS, ec2Client: '@aws-sdk/client-ec2', nativeClient: 'fetch' },
      latencyMs: { ec2: ec2Stats, native: nativeStats },
      launchCallMs: callStats,
      launchesPerSecond: perSecond,
      ratio: {
        p50: Math.round((ec2Stats.p50 / nativeStats.p50) * 100) / 100,
        p99: Math.round((ec2Stats.p99 / nativeStats.p99) * 100) / 100,
        throughput: Math.round((perSecond.native / perSecond.ec2) * 100) / 100,
        launchCallP50: Math.round((callStats.ec2.p50 / callStats.native.p50) * 100) / 100,
      },
      aim: 'ec2 latency <= 1.5x native (issue 16, item 6)',
    };
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/ec2-frontend.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    ec2.destroy();
  } finally {
    await w.close();
  }
}

await main();
