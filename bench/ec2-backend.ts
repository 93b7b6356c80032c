// npm run bench:ec2-backend — the EC2 back-end's launch to running, through the driver against the
// SDK called directly (RunInstances, then DescribeInstances until the instance runs), taking turns
// in the same run against the same moto server. The driver makes the same calls (it looks for an
// instance launched with a ClientToken only when it reuses one, after a lost answer or a crash),
// and besides resolves the account, type and AMI and writes its state file before and after the
// call, so that a crash mid-launch is recovered. Both poll every 20 ms.
// Writes bench/results/ec2-backend.json.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { Ec2Driver } from '../src/drivers/ec2/ec2-driver.ts';
import { startMoto } from '../test/support/moto.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
/** First launches of each side, not counted: the SDK client's first connection and the code's first run. */
const WARMUP = 5;
const POLL_MS = 20;
const AMI = 'ami-12c6146b';
const KEYS = { accessKeyId: 'AKIAVWSBENCH00000001', secretAccessKey: 'bench' };

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const round = (x: number): number => Math.round(x * 100) / 100;
const summary = (xs: number[]) => ({ p50Ms: round(quantile(xs, 0.5)), p99Ms: round(quantile(xs, 0.99)), meanMs: round(xs.reduce((a, b) => a + b, 0) / xs.length) });

const moto = await startMoto();
const dir = mkdtempSync(join(tmpdir(), 'vws-bench-ec2-'));
try {
  const driver = new Ec2Driver({
    config: { endpoint: moto.endpoint, region: 'us-east-1', instanceTypes: [{ name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 }], images: { debian: AMI }, accounts: { default: KEYS } },
    stateFile: join(dir, 'ec2-vms.json'), ownerOf: async () => ({ owner: 'bench', group: null, memberOf: [] }), pollMs: POLL_MS,
  });
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: KEYS });
  const viaDriver: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const leaseId = `bench-${i}`;
    let t = performance.now();
    await driver.start({ id: `${leaseId}/0`, leaseId, index: 0, node: 'ec2-us-east-1', cpu: 1, memoryMiB: 512, image: 'debian', mac: '52:54:00:00:00:01' });
    if (i >= WARMUP) viaDriver.push(performance.now() - t);
    await driver.stop(`${leaseId}/0`, { graceful: false });

    t = performance.now();
    const run = await ec2.send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, ClientToken: `bench-direct-${i}` }));
    const id = run.Instances![0]!.InstanceId!;
    for (;;) {
      const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      if (d.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'running') break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (i >= WARMUP) direct.push(performance.now() - t);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  }
  await driver.close();
  const result = {
    what: 'EC2 back-end: launch to running through the Ec2Driver against the SDK directly (RunInstances + DescribeInstances until running), same moto server, turns taken',
    endpoint: 'moto_server 5.2.1 (instances are running as soon as they are listed)',
    runs: RUNS,
    warmupRunsNotCounted: WARMUP,
    pollMs: POLL_MS,
    driver: summary(viaDriver),
    sdkDirect: summary(direct),
    ratioP50: round(quantile(viaDriver, 0.5) / quantile(direct, 0.5)),
    ratioP99: round(quantile(viaDriver, 0.99) / quantile(direct, 0.99)),
    callsPerLaunch: { driver: 'RunInstances + DescribeInstances (+ a DescribeInstances by tag only when a ClientToken is reused)', sdkDirect: 'RunInstances + DescribeInstances' },
    date: new Date().toISOString(),
  };
  mkdirSync(join(new URL('.', import.meta.url).pathname, 'results'), { recursive: true });
  writeFileSync(new URL('./results/ec2-backend.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
