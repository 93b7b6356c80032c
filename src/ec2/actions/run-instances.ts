// RunInstances: an immediate vws lease (EC2's semantics: it starts now or is refused) of
// MaxCount VMs, or fewer down to MinCount when the pool cannot hold MaxCount now.

import { createHash, randomUUID } from 'node:crypto';
import type { LeaseRequest } from '../../core/types.ts';
import type { Refusal } from '../../control/refusal.ts';
import { untrustedImage } from '../../control/image-trust.ts';
import { reasonText } from '../../drivers/trust-policy.ts';
import { userDataType } from '../../seed/seed-input.ts';
import type { ImageRow, LeaseRow } from '../../store/store.ts';
import type { Action } from '../action.ts';
import type { Ec2Caller, Ec2Options } from '../context.ts';
import { Ec2Error, invalidValue } from '../errors.ts';
import { AMI_ID } from '../ids.ts';
import { usableImages } from '../images.ts';
import { belowMinimum } from '../../control/image-minimum.ts';
import { DEFAULT_INSTANCE_TYPE } from '../instance-types.ts';
import { instanceItem, instancesOfLease } from '../instance-view.ts';
import type { Params } from '../query.ts';
import { reservationIdOf } from '../ids.ts';
import { checkTag, type TagInput } from './tag-checks.ts';

/** Most instances one RunInstances asks for. */
export const MOST_INSTANCES = 100;
/** EC2's limit on user data (before base64). */
export const MOST_USER_DATA_BYTES = 16 * 1024;

/** Refusals that mean "not now, not this many": fewer instances may still fit. */
const CAPACITY = new Set(['insufficient-capacity', 'exceeds-pool', 'too-late', 'policy']);
/** The site's terms' limits on what an owner or group holds or spends: fewer instances may fit those too. */
const LIMITS = new Set(['over-quota', 'insufficient-allocation']);

interface RunRequest {
  imageId: string;
  instanceType: string;
  minCount: number;
  maxCount: number;
  keyName: string | undefined;
  userData: string | undefined;
  clientToken: string | undefined;
  tags: TagInput[];
  zone: string | undefined;
  /** A spot instance: a best-effort, preemptible lease, which its owner may stop (suspend) and start (resume). */
  spot: boolean;
  /** What ClientToken idempotency compares: every parameter but the token. */
  paramsHash: string;
}

function decodeUserData(b64: string): string {
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw invalidValue('UserData', b64, 'UserData must be base64 (the AWS CLI and SDKs encode it for you).');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > MOST_USER_DATA_BYTES) throw invalidValue('UserData', `${bytes.length} bytes`, `User data is limited to ${MOST_USER_DATA_BYTES} bytes.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidValue('UserData', '(binary)', 'vws hands user data to cloud-init as text: send UTF-8 (a gzip archive is not supported).');
  }
  const type = userDataType(text);
  if ('problem' in type) throw invalidValue('UserData', text.slice(0, 40), type.problem);
  return text;
}

function readMarket(p: Params): boolean {
  const market = p.optional('InstanceMarketOptions.MarketType');
  if (market !== undefined && market !== 'spot') throw invalidValue('InstanceMarketOptions.MarketType', market, 'vws takes spot (a best-effort, preemptible lease), or no market type (on-demand: an immediate lease).');
  return market === 'spot';
}

function readRun(p: Params): RunRequest {
  const imageId = p.required('ImageId', 'the AMI to launch, from DescribeImages');
  if (!AMI_ID.test(imageId)) throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${imageId.slice(0, 100)}" (expecting "ami-...")`);
  const maxCount = p.integer('MaxCount', 1, MOST_INSTANCES);
  const minCount = p.integer('MinCount', 1, MOST_INSTANCES);
  if (maxCount === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter MaxCount');
  if (minCount === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter MinCount');
  if (minCount > maxCount) throw invalidValue('MinCount', String(minCount), `MinCount must be at most MaxCount (${maxCount}).`);
  const userData = p.optional('UserData');
  const clientToken = p.optional('ClientToken');
  if (clientToken !== undefined && !/^[\x21-\x7e]{1,64}$/.test(clientToken)) throw invalidValue('ClientToken', clientToken, 'A client token is 1 to 64 printable ASCII characters.');
  const tags: TagInput[] = [];
  for (const n of p.indexes('TagSpecification')) {
    const type = p.required(`TagSpecification.${n}.ResourceType`, 'what the tags are for (instance)');
    if (type !== 'instance') throw invalidValue(`TagSpecification.${n}.ResourceType`, type, 'vws tags instances only: give instance.');
    for (const t of p.tags(`TagSpecification.${n}.Tag`)) tags.push(checkTag(t.key, t.value ?? ''));
  }
  const run: Omit<RunRequest, 'paramsHash'> = {
    imageId,
    instanceType: p.optional('InstanceType') ?? DEFAULT_INSTANCE_TYPE,
    minCount,
    maxCount,
    keyName: p.optional('KeyName'),
    userData: userData === undefined ? undefined : decodeUserData(userData),
    clientToken,
    tags,
    zone: p.optional('Placement.AvailabilityZone'),
    spot: readMarket(p),
  };
  const { clientToken: _, ...compared } = run;
  return { ...run, paramsHash: createHash('sha256').update(JSON.stringify(compared)).digest('hex') };
}

/** Launches of one user one at a time: a ClientToken is checked and kept with nothing in between. */
const launching = new Map<string, Promise<unknown>>();

function oneAtATime<T>(owner: string, fn: () => Promise<T>): Promise<T> {
  const before = launching.get(owner) ?? Promise.resolve();
  const mine = before.then(fn, fn);
  const settled = mine.catch(() => undefined);
  launching.set(owner, settled);
  void settled.then(() => { if (launching.get(owner) === settled) launching.delete(owner); });
  return mine;
}

async function leaseRequest(opts: Ec2Options, caller: Ec2Caller, r: RunRequest): Promise<Omit<LeaseRequest, 'id' | 'nodes'>> {
  const shape = opts.instanceTypes.get(r.instanceType);
  if (!shape) throw invalidValue('InstanceType', r.instanceType, `vws offers ${[...opts.instanceTypes.keys()].join(', ')} (DescribeInstanceTypes).`);
  if (r.zone !== undefined && r.zone !== `${opts.region}a`) throw invalidValue('Placement.AvailabilityZone', r.zone, `The only zone is ${opts.region}a.`);
  const image = (await usableImages(opts, caller)).find((i) => i.amiId === r.imageId);
  if (!image) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${r.imageId}]' does not exist`);
  await checkTrust(opts, caller, image.image);
  // As EC2 refuses an instance type of another architecture than the AMI's: the type is the wrong value.
  const small = belowMinimum(image.image, shape, `a ${r.instanceType} instance`);
  if (small) throw invalidValue('InstanceType', r.instanceType, `${small}: an instance type that large (DescribeInstanceTypes).`);
  let sshPublicKeys: string[] | undefined;
  if (r.keyName !== undefined) {
    const key = (await opts.store.keyPairsOf(caller.user.id)).find((k) => k.name === r.keyName);
    if (!key) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${r.keyName.slice(0, 255)}' does not exist`);
    sshPublicKeys = [key.publicKey];
  }
  return {
    kind: r.spot ? 'best-effort' : 'immediate',
    arrival: 0,
    requestedStart: null,
    duration: opts.leaseSeconds,
    perNode: { cpu: shape.cpu, memoryMiB: shape.memoryMiB, diskMiB: 0 },
    image: { id: image.image.name, sizeMiB: image.image.sizeMiB },
    preemptible: r.spot,
    ...(r.userData !== undefined ? { userData: r.userData } : {}),
    ...(sshPublicKeys ? { sshPublicKeys } : {}),
  };
}

/** The site's trust policy on the image and its boot parts (docs/trust.md), as the REST API checks it. */
async function checkTrust(opts: Ec2Options, caller: Ec2Caller, image: ImageRow): Promise<void> {
  const parts = [image];
  for (const name of image.boot ? [image.boot.kernel, image.boot.initrd] : []) {
    const part = await opts.store.getImage(name);
    if (part) parts.push(part);
  }
  const refused = await untrustedImage(opts.store, parts, caller.user.isAdmin, opts.now());
  if (refused) throw new Ec2Error('UnauthorizedOperation', `The image '${refused.image.name}' is not trusted by this site's policy (${refused.policy.require}): ${reasonText(refused.verdict)}`);
}

function refusalError(refusal: Refusal, tried: string): Ec2Error {
  const when = refusal.earliestStart ? ` The earliest it could start is ${new Date(refusal.earliestStart * 1000).toISOString()}.` : '';
  if (CAPACITY.has(refusal.code)) return new Ec2Error('InsufficientInstanceCapacity', `There is not enough capacity for ${tried} now: ${refusal.message}.${when}`);
  // As EC2 answers a launch past the account's vCPU limit.
  if (refusal.code === 'over-quota') return new Ec2Error('VcpuLimitExceeded', `You have requested more vCPU capacity than your current vCPU limit allows for ${tried}: ${refusal.message}.`);
  return new Ec2Error('InvalidParameterValue', `vws refused the launch (${refusal.code}): ${refusal.message}`);
}

/** Tries MaxCount, then fewer down to MinCount; the lease made, or the refusal of MinCount. */
async function launch(opts: Ec2Options, caller: Ec2Caller, r: RunRequest, base: Omit<LeaseRequest, 'id' | 'nodes'>): Promise<LeaseRow> {
  let last: Refusal | null = null;
  for (let n = r.maxCount; n >= r.minCount; n--) {
    const request: LeaseRequest = { ...base, id: `l-${randomUUID().slice(0, 13)}`, nodes: n };
    if (r.spot) {
      // EC2 launches a spot instance now or refuses it; a best-effort lease would wait in the queue.
      const now = await opts.service.quote({ ...request, kind: 'immediate', preemptible: false }, { owner: caller.user.id, group: null });
      if (!now.ok) {
        last = { ok: false, code: now.reason, message: now.message, earliestStart: now.earliestStart };
        continue;
      }
    }
    const made = await opts.service.create(caller.user.id, null, request);
    if (made.ok) return made.value.lease;
    last = made;
    if (!CAPACITY.has(made.code) && !LIMITS.has(made.code)) break;
  }
  throw refusalError(last!, r.minCount === r.maxCount ? `${r.minCount} ${r.instanceType} instance(s)` : `${r.minCount} to ${r.maxCount} ${r.instanceType} instances`);
}

export const runInstances: Action = (p) => {
  const r = readRun(p);
  return (opts, caller) => oneAtATime(caller.user.id, async () => {
    let lease: LeaseRow | null = null;
    if (r.clientToken !== undefined) {
      const seen = await opts.store.clientToken(caller.user.id, r.clientToken);
      if (seen && seen.paramsHash !== r.paramsHash) throw new Ec2Error('IdempotentParameterMismatch', `The client token '${r.clientToken}' was used before with other parameters: use a new token for a new request`);
      if (seen) lease = await opts.store.getLease(seen.leaseId);
    }
    if (!lease) {
      const base = await leaseRequest(opts, caller, r);
      lease = await launch(opts, caller, r, base);
      if (r.clientToken !== undefined) await opts.store.keepClientToken({ owner: caller.user.id, token: r.clientToken, leaseId: lease.id, paramsHash: r.paramsHash });
      const instances = await instancesOfLease(opts, lease);
      for (const i of instances) for (const t of r.tags) await opts.store.putTag({ owner: caller.user.id, resourceId: i.id, key: t.key, value: t.value });
    }
    const instances = await instancesOfLease(opts, lease);
    const tags = await opts.store.tagsOf(caller.user.id);
    const keys = await opts.store.keyPairsOf(caller.user.id);
    return {
      reservationId: reservationIdOf(lease.id),
      ownerId: caller.user.id,
      groupSet: [],
      instancesSet: instances.map((i) => instanceItem(opts, i, tags, keys, r.clientToken)),
    };
  });
};
