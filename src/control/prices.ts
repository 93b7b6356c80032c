// What a lease costs, in the site's unit of resource usage (its terms, core/terms.ts): on the
// site's own pool, by the cores and memory it holds over time (a service unit per core-hour by
// default, as XSEDE's SUs were) times its kind's price factor; on a back-end that bills per
// instance (EC2), by what the back-end charges in dollars, converted at the site's rate, as it is
// passed on. Quotes show the price of each option; lease views show the charge so far, metered
// from the schedule (core/metering.ts says what is charged: not the time suspended for others).

import { vmShapes } from '../core/roles.ts';
import { roundUnits, unitsCharged } from '../core/metering.ts';
import { priceFactorOf, type Terms } from '../core/terms.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { Billing, VmShape } from '../drivers/plugin.ts';
import type { Usage } from '../store/store.ts';

/** The base rates, as GET /v1/backends shows them beside the back-ends' (the terms hold the rest). */
export interface SitePrices {
  /** The unit's name, as clients read it. */
  unit: string;
  perCoreHour: number;
  perGiBHour: number;
}

export const sitePrices = (terms: Terms): SitePrices => ({ unit: terms.unit.name, perCoreHour: terms.unit.perCoreHour, perGiBHour: terms.unit.perGiBHour });

/** An amount in the site's unit; null where a back-end's dollars have no conversion. Dollars for a back-end that bills in them. */
export interface Price {
  amount: number | null;
  unit: string;
  dollars?: number;
}

/** A request's VMs by shape, as a billing back-end prices them. */
function billedShapes(req: LeaseRequest): VmShape[] {
  return vmShapes(req).map((s) => ({ cpu: s.perNode.cpu, memoryMiB: s.perNode.memoryMiB, count: s.count }));
}

const round = roundUnits;

/** In the unit, from dollars at the back-end's rate. */
function fromDollars(dollars: number, billing: Billing, terms: Terms): Price {
  return { amount: billing.unitsPerDollar === null ? null : round(dollars * billing.unitsPerDollar), unit: terms.unit.name, dollars: round(dollars) };
}

/** The price of running the request for its whole duration (one occurrence of a periodic lease); null where a back-end cannot price a shape. */
export function priceOf(req: LeaseRequest, terms: Terms, billing?: Billing): Price | null {
  if (billing) {
    const dollars = billing.dollarsFor(billedShapes(req), req.duration);
    return dollars === null ? null : fromDollars(dollars, billing, terms);
  }
  const { perCoreHour, perGiBHour } = terms.unit;
  const hours = req.duration / 3600;
  const amount = vmShapes(req).reduce((sum, s) => sum + s.count * hours * (s.perNode.cpu * perCoreHour + (s.perNode.memoryMiB / 1024) * perGiBHour), 0);
  return { amount: round(amount * priceFactorOf(req, terms)), unit: terms.unit.name };
}

/** What a lease has been charged so far: its usage on the pool, or the back-end's bill. */
export function chargeOf(req: LeaseRequest, usage: Usage, terms: Terms, billing?: Billing): Price {
  if (billing) return fromDollars(billing.chargedDollars(req.id), billing, terms);
  return { amount: unitsCharged(req, usage, terms), unit: terms.unit.name };
}
