// The aws CLI (aws-cli 1.x) and boto3, unchanged but for --endpoint-url / endpoint_url, against a
// real `vws serve --ec2-listen`: the same lifecycle and refusals a person or a script meets.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { waitFor } from '../support/wait.ts';
import { type Ec2World, ec2World, type Keys, leaseDigest } from './ec2-world.ts';

let w: Ec2World;

/** The CLI's JSON, read field by field by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's answers are checked by the assertions that read them
type Json = any;

before(async () => {
  w = await ec2World(4);
});

after(async () => {
  await w?.close();
});

/** Clients read only what the test gives them: no one's ~/.aws. */
const clientEnv = (keys: Keys): NodeJS.ProcessEnv => ({
  ...process.env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_DEFAULT_REGION: 'vws',
  AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard',
});

function aws(keys: Keys, ...args: string[]): { status: number | null; out: Json; stderr: string } {
  const r = spawnSync('aws', ['ec2', ...args, '--endpoint-url', w.endpoint, '--output', 'json'], { env: clientEnv(keys), encoding: 'utf8' });
  return { status: r.status, out: r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

function ok(keys: Keys, ...args: string[]): Json {
  const r = aws(keys, ...args);
  assert.equal(r.status, 0, `aws ec2 ${args.join(' ')}: ${r.stderr}`);
  return r.out;
}

test('the aws CLI: key pair, run, describe with filters, tags, stop/start of spot, terminate; refusals', async () => {
  const ami = ok(w.ann, 'describe-images').Images.find((i: { Name: string }) => i.Name === w.imageName).ImageId;
  assert.match(ok(w.ann, 'create-key-pair', '--key-name', 'cli', '--key-type', 'ed25519').KeyMaterial, /OPENSSH PRIVATE KEY/);
  const run = ok(w.ann, 'run-instances', '--image-id', ami, '--instance-type', 't3.micro', '--count', '2', '--key-name', 'cli',
    '--user-data', '#!/bin/sh\necho from-cli', '--tag-specifications', 'ResourceType=instance,Tags=[{Key=Name,Value=cli}]');
  const ids: string[] = run.Instances.map((i: { InstanceId: string }) => i.InstanceId);
  assert.equal(ids.length, 2);
  await waitFor('running', () => ok(w.ann, 'describe-instances', '--instance-ids', ...ids).Reservations[0].Instances.every((i: { State: { Name: string } }) => i.State.Name === 'running'));
  const filtered = ok(w.ann, 'describe-instances', '--filters', 'Name=tag:Name,Values=cli', 'Name=instance-state-name,Values=running');
  assert.deepEqual(filtered.Reservations.flatMap((r: { Instances: { InstanceId: string }[] }) => r.Instances.map((i) => i.InstanceId)).sort(), [...ids].sort());
  ok(w.ann, 'create-tags', '--resources', ids[0], '--tags', 'Key=env,Value=test');
  assert.deepEqual(ok(w.ann, 'describe-tags', '--filters', `Name=resource-id,Values=${ids[0]}`).Tags.map((t: { Key: string }) => t.Key), ['Name', 'env']);

  const spot = ok(w.ann, 'run-instances', '--image-id', ami, '--count', '1', '--instance-market-options', 'MarketType=spot').Instances[0].InstanceId;
  await waitFor('spot running', () => ok(w.ann, 'describe-instances', '--instance-ids', spot).Reservations[0].Instances[0].State.Name === 'running');
  await waitFor('stop accepted', () => {
    const r = aws(w.ann, 'stop-instances', '--instance-ids', spot);
    if (r.status !== 0 && /this very instant/.test(r.stderr)) return false;
    assert.equal(r.status, 0, r.stderr);
    return true;
  });
  await waitFor('stopped', () => ok(w.ann, 'describe-instances', '--instance-ids', spot).Reservations[0].Instances[0].State.Name === 'stopped');
  ok(w.ann, 'start-instances', '--instance-ids', spot);
  await waitFor('running again', () => ok(w.ann, 'describe-instances', '--instance-ids', spot).Reservations[0].Instances[0].State.Name === 'running');

  const before = await leaseDigest(w);
  const wrong = aws({ ...w.ann, secretAccessKey: 'x'.repeat(40) }, 'terminate-instances', '--instance-ids', ...ids);
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /SignatureDoesNotMatch/);
  const other = aws(w.bob, 'terminate-instances', '--instance-ids', ...ids);
  assert.match(other.stderr, /InvalidInstanceID\.NotFound/);
  const noImage = aws(w.ann, 'run-instances', '--image-id', 'ami-0123456789abcdef0', '--count', '1');
  assert.match(noImage.stderr, /InvalidAMIID\.NotFound/);
  assert.equal(await leaseDigest(w), before);

  const ended = ok(w.ann, 'terminate-instances', '--instance-ids', ...ids, spot);
  assert.equal(ended.TerminatingInstances.length, 3);
  await waitFor('terminated', () => ok(w.ann, 'describe-instances', '--filters', 'Name=instance-state-name,Values=terminated').Reservations.flatMap((r: { Instances: unknown[] }) => r.Instances).length === 3);
});

const BOTO = String.raw`
import base64, datetime as real, json, os, sys, time
import boto3, botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError

def ec2(key, secret):
    return boto3.client('ec2', endpoint_url=os.environ['ENDPOINT'], region_name='vws', aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={'total_max_attempts': 1}))

def code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response['Error']['Code']
    return None

ann = ec2(os.environ['ANN_KEY'], os.environ['ANN_SECRET'])
bob = ec2(os.environ['BOB_KEY'], os.environ['BOB_SECRET'])
out = {}
ami = [i['ImageId'] for i in ann.describe_images()['Images'] if i['Name'] == os.environ['IMAGE']][0]
ann.import_key_pair(KeyName='boto', PublicKeyMaterial=b'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgmGUYBqpRPNcPkGR/oo2mjJWgiFZHt4+HLGpwu20zC me@host')
out['keys'] = [k['KeyName'] for k in ann.describe_key_pairs(KeyNames=['boto'])['KeyPairs']]
run = ann.run_instances(ImageId=ami, InstanceType='t3.small', MinCount=1, MaxCount=2, KeyName='boto', UserData='#cloud-config\nhostname: x\n',
                        TagSpecifications=[{'ResourceType': 'instance', 'Tags': [{'Key': 'app', 'Value': 'boto'}]}])
ids = [i['InstanceId'] for i in run['Instances']]
out['launched'] = len(ids)
out['keyName'] = run['Instances'][0].get('KeyName')
ann.get_waiter('instance_running').wait(InstanceIds=ids, WaiterConfig={'Delay': 1, 'MaxAttempts': 600})
out['byTag'] = sorted(i['InstanceId'] for r in ann.describe_instances(Filters=[{'Name': 'tag:app', 'Values': ['boto']}])['Reservations'] for i in r['Instances']) == sorted(ids)
out['bobSees'] = code(lambda: bob.describe_instances(InstanceIds=ids))
out['bobTerminates'] = code(lambda: bob.terminate_instances(InstanceIds=ids))
out['wrongSecret'] = code(lambda: ec2(os.environ['ANN_KEY'], 'y' * 40).terminate_instances(InstanceIds=ids))

# A clock 20 minutes behind: botocore signs with the time get_current_datetime gives.
saved = botocore.auth.get_current_datetime
botocore.auth.get_current_datetime = lambda *a, **k: saved(*a, **k) - real.timedelta(minutes=20)
out['late'] = code(lambda: ann.terminate_instances(InstanceIds=ids))
botocore.auth.get_current_datetime = saved
out['stillRunning'] = [i['State']['Name'] for r in ann.describe_instances(InstanceIds=ids)['Reservations'] for i in r['Instances']]
ann.terminate_instances(InstanceIds=ids)
ann.get_waiter('instance_terminated').wait(InstanceIds=ids, WaiterConfig={'Delay': 1, 'MaxAttempts': 600})
out['terminated'] = True
print(json.dumps(out))
`;

test('boto3: import a key, run, wait for running, filters, refusals (another user, wrong secret, a clock 20 minutes off), terminate', async () => {
  const before = await leaseDigest(w);
  const r = spawnSync('python3.11', ['-c', BOTO], {
    encoding: 'utf8',
    env: { ...clientEnv(w.ann), ENDPOINT: w.endpoint, IMAGE: w.imageName, ANN_KEY: w.ann.accessKeyId, ANN_SECRET: w.ann.secretAccessKey, BOB_KEY: w.bob.accessKeyId, BOB_SECRET: w.bob.secretAccessKey },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out, {
    keys: ['boto'], launched: 2, keyName: 'boto', byTag: true, bobSees: 'InvalidInstanceID.NotFound', bobTerminates: 'InvalidInstanceID.NotFound',
    wrongSecret: 'SignatureDoesNotMatch', late: 'RequestExpired', stillRunning: ['running', 'running'], terminated: true,
  });
  assert.notEqual(await leaseDigest(w), before);
});
