// EC2's refusals as the service understands them: a DriverError whose reason carries EC2's own
// code and message. Capacity and limit errors may clear up (another zone, another hour, a lease
// ending elsewhere on the account), so they are plain refusals the service retries with backoff
// and gives up on after a few; an AMI or a request EC2 will never take is permanent, and fails the
// lease at once. Throttling never reaches here: the SDK's retry strategy backs off and retries it.

import { DriverError } from '../driver.ts';

/** Refusals that may succeed later or elsewhere. */
const TRANSIENT = new Set([
  'InsufficientInstanceCapacity', 'InsufficientHostCapacity', 'InsufficientReservedInstanceCapacity', 'InsufficientCapacity',
  'InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'RequestLimitExceeded', 'ServiceUnavailable',
  'Unavailable', 'InternalError', 'Throttling',
]);

/** Codes (or their prefix before the dot) that no retry can change. */
const PERMANENT = ['InvalidAMIID', 'Unsupported', 'UnsupportedOperation', 'InvalidParameterValue', 'InvalidParameterCombination',
  'InvalidInstanceType', 'AuthFailure', 'UnauthorizedOperation', 'OptInRequired', 'InvalidUserData', 'Blocked', 'PendingVerification',
  // The same ClientToken with other parameters (the site changed a type or AMI mid-launch): the same call fails the same way.
  'IdempotentParameterMismatch'];

export function isPermanent(code: string): boolean {
  return PERMANENT.includes(code) || PERMANENT.includes(code.split('.')[0]!);
}

/** An SDK error's EC2 code, or null for errors that never got an answer from EC2 (network, timeout). */
export function ec2Code(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return meta?.httpStatusCode !== undefined ? e.name : null;
}

/** The DriverError for an SDK error of `operation` on `vmId`, in EC2's words. */
export function refusalOf(vmId: string, operation: string, e: unknown): DriverError {
  if (e instanceof DriverError) return e;
  const code = ec2Code(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === null) return new DriverError(vmId, `EC2 ${operation} got no answer: ${message}`);
  const what = `EC2 refused ${operation}: ${code}: ${message}`;
  if (TRANSIENT.has(code)) return new DriverError(vmId, `${what} (retried later, a few times)`);
  return new DriverError(vmId, what, { permanent: isPermanent(code) });
}
