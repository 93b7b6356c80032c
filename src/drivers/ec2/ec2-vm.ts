// What the EC2 driver keeps of each VM in its state file: the launch it decided (account, token,
// type, price) and the instance EC2 gave it. The driver and its reconciliation with EC2 both read
// and change these records.

import type { VmSpec, VmStatus } from '../driver.ts';

export interface Ec2Vm {
  spec: VmSpec;
  /** The account's identity (not its secret): which client reaches the instance. */
  account: string;
  attempt: number;
  clientToken: string;
  /** Null from the moment the launch is decided until EC2 answers it. */
  instanceId: string | null;
  instanceType: string;
  pricePerHour: number;
  launchedAt: number;
  status: VmStatus;
}
