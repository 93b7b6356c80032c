// EC2's identifiers for vws's things, derived so that they are stable across restarts and need
// no table: an instance id from its lease and workspace, an AMI id from the image's name.

import { createHash, randomBytes } from 'node:crypto';

const hex17 = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 17);

export const instanceIdOf = (leaseId: string, index: number): string => `i-${hex17(`instance ${leaseId}/${index}`)}`;
export const reservationIdOf = (leaseId: string): string => `r-${hex17(`reservation ${leaseId}`)}`;
export const amiIdOf = (imageName: string): string => `ami-${hex17(`image ${imageName}`)}`;
export const newKeyPairId = (): string => `key-${randomBytes(9).toString('hex').slice(0, 17)}`;

/** EC2 accepts the old 8-digit and the current 17-digit forms. */
export const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
export const AMI_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
