// The driver contract against a real EC2-compatible endpoint (moto's server): the EC2 driver
// declares no capabilities beyond start and stop, so it runs the base tests and refuses the rest.

import '../../core/support/setup.ts';
import { driverContract } from '../driver-contract.ts';
import { motoDriver } from './moto-fixture.ts';

driverContract('ec2 (on moto)', [], async () => {
  const { driver } = await motoDriver();
  return { driver, nodes: ['ec2-us-east-1a', 'ec2-us-east-1b'], image: 'debian', cleanup: async () => {} };
});
