// What the EC2 driver refuses, and in whose words. Against moto: an owner without an account, an
// image without an AMI and a shape no type fits are refused for good, before anything is launched.
// Against a fake EC2 endpoint (moto injects no errors): EC2's capacity and limit errors come back
// as refusals the service retries, naming EC2's code and message; a bad AMI as a permanent one;
// throttling is retried with backoff and never reaches the service.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DriverError, type VmSpec } from '../../../src/drivers/driver.ts';
import { Ec2Driver } from '../../../src/drivers/ec2/ec2-driver.ts';
import { alice, motoDriver, siteConfig, tempDir } from './moto-fixture.ts';

let n = 0;
function spec(shape: Partial<VmSpec> = {}): VmSpec {
  const leaseId = `ref-${process.pid}-${++n}`;
  return { id: `${leaseId}/0`, leaseId, index: 0, node: 'ec2-us-east-1a', cpu: 1, memoryMiB: 512, image: 'debian', mac: '52:54:00:00:00:01', ...shape };
}

async function refusedForGood(op: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(op, (e: unknown) => {
    assert.ok(e instanceof DriverError, `a DriverError, got ${String(e)}`);
    assert.match(e.message, message);
    assert.equal(e.permanent, true, `refused for good: ${e.message}`);
    return true;
  });
}

test('on moto: an owner without an account, an image without an AMI, a shape no type fits: refused for good, nothing launched', async () => {
  const { driver } = await motoDriver({ ownerOf: async (lease) => (lease.endsWith('-bob') ? { owner: 'bob', group: 'physics', memberOf: ['physics'] } : alice) });
  try {
    const bobs = { ...spec(), leaseId: `ref-${process.pid}-bob`, id: `ref-${process.pid}-bob/0` };
    await refusedForGood(driver.start(bobs), /user bob may not run on EC2: no account in the EC2 site configuration for the user nor for its groups \(physics\)/);
    await refusedForGood(driver.prepareImage('ec2-us-east-1a', 'centos'), /image 'centos' has no AMI in the EC2 site configuration/);
    await refusedForGood(driver.start(spec({ image: 'centos' })), /image 'centos' has no AMI/);
    await refusedForGood(driver.start(spec({ image: null })), /without an image/);
    await refusedForGood(driver.start(spec({ cpu: 64 })), /no instance type of the site fits 64 CPU and 512 MiB: the types are t3\.micro/);
    await refusedForGood(driver.start(spec({ node: 'sim-1' })), /node 'sim-1' is not one of the EC2 driver's nodes \(ec2-us-east-1a, ec2-us-east-1b\)/);
    assert.deepEqual(await driver.status(), [], 'no VM, no instance');
  } finally {
    await driver.close();
  }
});

/** A fake EC2 answering each action with what `answer` says (status and XML), counting calls. */
async function fakeEc2(answer: (action: string, nth: number) => [number, string]): Promise<{ endpoint: string; calls: string[]; server: Server }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const action = new URLSearchParams(body).get('Action') ?? '?';
      calls.push(action);
      const [status, xml] = answer(action, calls.filter((c) => c === action).length);
      res.writeHead(status, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls, server };
}
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

const error = (code: string, message: string): string => `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`;
const noInstances = '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>';
const ICE = 'We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a).';

function driverOn(endpoint: string): Ec2Driver {
  return new Ec2Driver({ config: siteConfig(endpoint), stateFile: join(tempDir(), 'ec2-vms.json'), ownerOf: async () => alice, pollMs: 10, maxAttempts: 3 });
}

test("EC2's capacity and limit errors are refusals in EC2's words that the service retries; a missing AMI is permanent", async () => {
  const cases: Array<[string, number, string, boolean]> = [
    ['InsufficientInstanceCapacity', 500, ICE, false],
    ['InstanceLimitExceeded', 400, "You have requested more instances (21) than your current instance limit of 20 allows for the specified instance type.", false],
    ['VcpuLimitExceeded', 400, 'You have requested more vCPU capacity than your current vCPU limit of 32 allows.', false],
    ['InvalidAMIID.NotFound', 400, "The image id '[ami-12c6146b]' does not exist", true],
    ['Unsupported', 400, 'The requested configuration is currently not supported.', true],
  ];
  for (const [code, status, message, permanent] of cases) {
    const fake = await fakeEc2((action) => (action === 'RunInstances' ? [status, error(code, message)] : [200, noInstances]));
    const driver = driverOn(fake.endpoint);
    const vm = spec();
    try {
      await assert.rejects(driver.start(vm), (e: unknown) => {
        assert.ok(e instanceof DriverError, `${code}: a DriverError, got ${String(e)}`);
        assert.equal(e.message, `${vm.id}: EC2 refused RunInstances: ${code}: ${message}${permanent ? '' : ' (retried later, a few times)'}`);
        assert.equal(e.permanent, permanent, code);
        return true;
      });
      assert.deepEqual(await driver.status(), [], `${code}: no VM is left behind`);
    } finally {
      await driver.close();
    }
  }
});

test('throttling is retried with backoff inside the driver: the service sees the answer that follows it', async () => {
  const fake = await fakeEc2((action, nth) => {
    if (nth === 1) return [503, error('RequestLimitExceeded', 'Request limit exceeded.')];
    return action === 'RunInstances' ? [500, error('InsufficientInstanceCapacity', ICE)] : [200, noInstances];
  });
  const driver = driverOn(fake.endpoint);
  try {
    await assert.rejects(driver.start(spec()), /InsufficientInstanceCapacity/);
    assert.deepEqual(fake.calls.slice(0, 2), ['RunInstances', 'RunInstances'], 'the throttled call was made again, and its second answer is what the driver says');
  } finally {
    await driver.close();
  }
});
