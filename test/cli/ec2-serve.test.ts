// `vws serve --driver ec2 --ec2-config FILE` as a process, against moto's server as EC2: a lease
// made through the REST API runs as an instance with its tags, user-data and type; cancelling the
// lease terminates it. A bad configuration stops the server from starting, naming the field.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DescribeInstanceAttributeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { instancesOf, type Moto, startMoto } from '../support/moto.ts';
import { bin, root } from '../support/vws-bin.ts';
import { waitFor } from '../support/wait.ts';
import { type Answer, apiCall, BOOTSTRAP_TOKEN, freePort, startServer, type RealServer } from './client/real-server.ts';

const KEYS = { accessKeyId: 'AKIAVWSSERVEADMIN001', secretAccessKey: 'admin-secret' };
const dir = mkdtempSync(join(tmpdir(), 'vws-ec2-serve-'));
let moto: Moto | null = null;
let server: RealServer | null = null;
after(async () => {
  await server?.kill();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function siteConfig(endpoint: string): object {
  return {
    endpoint, region: 'us-east-1',
    instanceTypes: [{ name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 }, { name: 'm5.large', cpu: 2, memoryMiB: 8192, pricePerHour: 0.096 }],
    images: { debian: 'ami-12c6146b' },
    accounts: { users: { admin: KEYS } },
  };
}

const call = (method: string, path: string, body?: unknown, raw?: Buffer): Promise<Answer> => apiCall(server!, BOOTSTRAP_TOKEN, method, path, body, raw);

test('a bad or missing --ec2-config, or --nodes with --driver ec2, keeps the server from starting, saying why', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ ...siteConfig('http://127.0.0.1:1'), images: { debian: 'debian-12' } }));
  const r = spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'bad-data'), '--listen', '127.0.0.1:0', '--driver', 'ec2', '--ec2-config', file], { cwd: root, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /images\.debian: 'debian-12' is not an AMI id/);
  const none = spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'bad-data'), '--listen', '127.0.0.1:0', '--driver', 'ec2'], { cwd: root, encoding: 'utf8' });
  assert.match(none.stderr, /--driver ec2 needs --ec2-config FILE/);
  const nodes = spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'bad-data'), '--listen', '127.0.0.1:0', '--driver', 'ec2', '--ec2-config', file, '--nodes', '2'], { cwd: root, encoding: 'utf8' });
  assert.match(nodes.stderr, /--nodes adds nodes by hand; with --driver ec2, its nodes are the region or zones of --ec2-config/);
});

test('vws serve --driver ec2: a lease made through the API runs as a tagged instance with its user-data and type; cancelling it terminates it', async () => {
  moto = await startMoto();
  const file = join(dir, 'ec2.json');
  writeFileSync(file, JSON.stringify(siteConfig(moto.endpoint)));
  server = await startServer(join(dir, 'data'), await freePort(), ['--driver', 'ec2', '--ec2-config', file]);
  const nodes = await call('GET', '/v1/nodes');
  assert.match(JSON.stringify(nodes.body), /"ec2-us-east-1"/, 'the driver\'s node was added by serve');
  // The catalogue still wants the image's content, though EC2 boots the AMI the site maps it to.
  const content = Buffer.alloc(1024 * 1024);
  assert.equal((await call('POST', '/v1/images', { name: 'debian', sizeMiB: 1, sha256: createHash('sha256').update(content).digest('hex') })).status, 201);
  assert.ok((await call('PUT', '/v1/images/debian/content', undefined, content)).status < 300);
  const userData = '#cloud-config\nwrite_files: [{path: /etc/vws-ec2-test, content: hello}]\n';
  const created = await call('POST', '/v1/leases', { kind: 'best-effort', duration: 3600, nodes: 1, cpu: 1, memoryMiB: 2048, image: 'debian', userData });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const leaseId = (created.body.lease as { id: string } | undefined)?.id ?? (created.body.id as string);
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: KEYS });
  let last: unknown;
  const workspace = await waitFor(`lease ${leaseId} running on EC2`, async () => {
    const got = await call('GET', `/v1/leases/${leaseId}`);
    last = got.body;
    const ws = (got.body.workspaces as Array<{ status: string; ip: string | null; node: string }> | undefined)?.[0];
    return ws?.status === 'running' && ws.ip ? ws : undefined;
  }, { everyMs: 100, seen: () => last });
  assert.equal(workspace.node, 'ec2-us-east-1');
  const [instance, ...more] = await instancesOf(ec2, leaseId);
  assert.equal(more.length, 0);
  const tags = Object.fromEntries(instance!.Tags!.map((t) => [t.Key, t.Value]));
  assert.equal(tags['vws:workspace'], `${leaseId}/0`);
  assert.ok(tags['vws:service']);
  assert.equal(instance!.InstanceType, 'm5.large', '2048 MiB does not fit t3.micro');
  assert.ok([instance!.PublicIpAddress, instance!.PrivateIpAddress].includes(workspace.ip ?? undefined), 'the workspace shows the instance\'s address');
  const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance!.InstanceId!, Attribute: 'userData' }));
  // The seed's user-data is MIME multipart (the service's part, then the lease's, each base64).
  const seedUserData = Buffer.from(attr.UserData!.Value!, 'base64').toString();
  const parts = seedUserData.split('--vws-seed-part').map((p) => p.split(/\r?\n\r?\n/)[1]?.replace(/\s+/g, '') ?? '').map((b) => Buffer.from(b, 'base64').toString());
  assert.ok(parts.includes(userData), `the lease's user-data travels in the seed's: ${seedUserData}`);
  const cancelled = await call('DELETE', `/v1/leases/${leaseId}`);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  await waitFor(`instance ${instance!.InstanceId} terminated`, async () => (await instancesOf(ec2, leaseId))[0]?.State?.Name === 'terminated', { everyMs: 100 });
});
