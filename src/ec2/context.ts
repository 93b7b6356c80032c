// What every EC2 action is given: the lease service and store the REST API uses too, and the
// front-end's own settings.

import type { LeaseService } from '../control/lease-service.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { Store, UserRow } from '../store/store.ts';
import type { InstanceTypes } from './instance-types.ts';

export interface Ec2Options {
  service: LeaseService;
  store: Store;
  secretBox: SecretBox;
  now: () => number;
  /** The region clients sign for and DescribeRegions names (`--ec2-region`). */
  region: string;
  instanceTypes: InstanceTypes;
  /** How long a RunInstances lease lasts, in seconds: EC2 instances name no end. */
  leaseSeconds: number;
}

/** Who signed the request. */
export interface Ec2Caller {
  user: UserRow;
  /** The user's groups: images shared with a group are visible to its members. */
  groups: string[];
}
