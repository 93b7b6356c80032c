// The site's back-ends as GET /v1/backends shows them to one caller: what each can do, how many
// nodes it has, whether the caller may run there (a billing back-end admits by account), the
// burst policy, and the prices in the site's unit beside each billing back-end's rate.

import type { LeaseOwner } from '../drivers/plugin.ts';
import type { ControlLoop } from './control-loop.ts';
import { sitePrices } from './prices.ts';

export type BackendList = ReturnType<typeof backendList>;

export function backendList(loop: ControlLoop, who: LeaseOwner) {
  const counts = new Map<string, number>();
  for (const id of loop.nodes.ids) {
    const backend = loop.backendOfNode(id)!;
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
  }
  return {
    backends: loop.backends.map((b) => {
      const why = b.billing?.refusesOwner(who) ?? null;
      return {
        name: b.name, driver: b.driver.name, capabilities: [...b.driver.capabilities].sort(), nodes: counts.get(b.name) ?? 0,
        bills: b.billing !== undefined, mayRun: b.billing ? why === null : null, ...(why ? { why } : {}),
      };
    }),
    policy: { burstAfterSeconds: loop.burst.afterSeconds },
    prices: { ...sitePrices(loop.terms.current), unitsPerDollar: Object.fromEntries(loop.backends.filter((b) => b.billing).map((b) => [b.name, b.billing!.unitsPerDollar])) },
  };
}
