// The EC2 back-end's side of the site's accounting: who may burst (an account for the owner, its
// group or the site's default), what a request would cost by EC2's model, and what a lease's
// instances have been charged (the driver's charge records).

import type { Billing } from '../plugin.ts';
import { ec2Charge } from './charges.ts';
import type { Ec2Driver } from './ec2-driver.ts';
import { accountFor, type Ec2SiteConfig, typeFor } from './site-config.ts';

// The refusal goes to users: it names the site's configuration, not the file that holds it.
export function ec2Billing(driver: Pick<Ec2Driver, 'charges'>, config: Ec2SiteConfig, unitsPerDollar: number | null): Billing {
  return {
    refusesOwner: (who) => {
      const account = accountFor(config, who);
      return typeof account === 'string' ? account : null;
    },
    dollarsFor: (vms, seconds) => {
      let dollars = 0;
      for (const vm of vms) {
        const type = typeFor(config.instanceTypes, vm.cpu, vm.memoryMiB);
        if (typeof type === 'string') return null;
        dollars += vm.count * ec2Charge(seconds, type.pricePerHour);
      }
      return dollars;
    },
    chargedDollars: (leaseId) => driver.charges(leaseId).reduce((sum, c) => sum + c.amount, 0),
    unitsPerDollar,
  };
}
