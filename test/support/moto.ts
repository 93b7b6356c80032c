// A real EC2-compatible endpoint for tests: moto's server (moto_server, from the machine's Python),
// started on a free loopback port and stopped by the test that started it. Known differences from
// EC2, which tests allow for rather than the driver: instances are never seen `pending`, a
// ClientToken used twice launches twice, MaxResults is ignored.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { freePort } from './free-port.ts';
import { waitFor } from './wait.ts';

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server; a machine without it fails the test saying how to get it (never skipped). */
export async function startMoto(env: Record<string, string> = {}): Promise<Moto> {
  const found = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error('moto_server is not on PATH: the EC2 tests need moto\'s server (pip install "moto[server]==5.2.1")');
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(`moto_server answering at ${endpoint}`, async () => {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}) before answering:\n${stderr}`);
    return fetch(`${endpoint}/moto-api/`).then((r) => r.status < 500, () => false);
  }, { everyMs: 100 });
  return {
    endpoint,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The instances a vws service launched for a lease, found by its tag. */
export async function instancesOf(ec2: EC2Client, leaseId: string): Promise<Instance[]> {
  const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:vws:lease', Values: [leaseId] }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}
