// A VM's leased network bandwidth, enforced on its tap in the node's network namespace, both ways.
//
// What the guest receives leaves the node through the tap: a token bucket (tbf) as the tap's root
// qdisc queues it down to the rate. What the guest sends arrives as the tap's ingress, where Linux
// has no queue to shape with: it is redirected (u32 match-all, mirred) to an ifb device of the
// tap's own, whose root tbf shapes it, and the ifb hands each packet back to the tap's ingress path
// (the bridge, and the tap's guard, tap-guards.ts, see it as before). Not an ingress policer: a
// policer drops what is over the rate, which TCP reads as congestion and backs off from, well below
// the rate with a small burst and in bursts with a large one; a queue delays instead, so a flow
// settles at the rate. (Nodes without act_police, like the kernel these tests run on, could not
// police at all; ifb and mirred are there.)
//
// tbf, ifb and the ingress qdisc go with the tap when it is deleted, except the ifb device, which
// unshape() removes: the VM's parts call it with the tap's removal.

import { createHash } from 'node:crypto';
import { checkIfname } from './addresses.ts';
import { CommandFailed, type Commands } from './commands.ts';
import { deleteLink, findLink } from './links.ts';

/** Prefix of the ifb devices that carry what VMs send; tearDown removes strays with it. */
export const SHAPER_PREFIX = 'vwi';

/** The ifb device of a tap: a name of its own (taps of the public and private networks each have one). */
export function shaperName(tap: string): string {
  return SHAPER_PREFIX + createHash('sha256').update(tap).digest('hex').slice(0, 12);
}

/** The most one queue holds, as time at the rate: deeper only adds latency; shallower drops bursts. */
const QUEUE_LATENCY_MS = 50;
/**
 * The bucket: 10 ms at the rate, and at least 64 KiB, so that one segment a guest's virtio-net
 * hands over whole (up to 64 KiB, segmented later) passes without being split by tbf, and so that
 * the kernel's timer granularity (HZ 100 at worst) never makes the bucket smaller than a tick's worth.
 */
const MIN_BURST_BYTES = 64 * 1024;

function tbf(mbps: number): string[] {
  const bitsPerSecond = Math.round(mbps * 1e6);
  const burst = Math.max(MIN_BURST_BYTES, Math.ceil(bitsPerSecond / 8 / 100));
  return ['tbf', 'rate', `${bitsPerSecond}bit`, 'burst', String(burst), 'latency', `${QUEUE_LATENCY_MS}ms`];
}

/** Runs `tc`, taking "there is nothing to delete" as done. */
async function tcDelete(cmds: Commands, args: string[]): Promise<void> {
  try {
    await cmds.tc(args);
  } catch (e) {
    if (e instanceof CommandFailed && /Cannot find|No such|Invalid handle|cannot be deleted|does not exist|Cannot delete qdisc with handle of zero/i.test(e.stderr)) return;
    throw e;
  }
}

/** Shapes both ways of `tap` to `mbps` Mbit/s; doing it again (an adopted VM, a lost setting) leaves the same. */
export async function shapeTap(cmds: Commands, tap: string, mbps: number): Promise<void> {
  checkIfname(tap, 'tap');
  if (!(Number.isFinite(mbps) && mbps > 0)) throw new Error(`the bandwidth of ${tap} must be a positive number of Mbit/s, got ${mbps}`);
  // What the guest receives.
  await cmds.tc(['qdisc', 'replace', 'dev', tap, 'root', ...tbf(mbps)]);
  // What the guest sends: through the tap's own ifb.
  const ifb = shaperName(tap);
  if (!(await findLink(cmds, ifb))) await cmds.ip(['link', 'add', 'name', ifb, 'type', 'ifb']);
  await cmds.ip(['link', 'set', 'dev', ifb, 'up']);
  await cmds.tc(['qdisc', 'replace', 'dev', ifb, 'root', ...tbf(mbps)]);
  // The ingress qdisc anew, so that its one filter is there exactly once.
  await tcDelete(cmds, ['qdisc', 'del', 'dev', tap, 'ingress']);
  await cmds.tc(['qdisc', 'add', 'dev', tap, 'handle', 'ffff:', 'ingress']);
  await cmds.tc(['filter', 'add', 'dev', tap, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb]);
}

/** Removes the shaping of `tap` (its ifb device; its qdiscs too where the tap is still there). */
export async function unshapeTap(cmds: Commands, tap: string): Promise<void> {
  checkIfname(tap, 'tap');
  if (await findLink(cmds, tap)) {
    await tcDelete(cmds, ['qdisc', 'del', 'dev', tap, 'ingress']);
    await tcDelete(cmds, ['qdisc', 'del', 'dev', tap, 'root']);
  }
  await deleteLink(cmds, shaperName(tap));
}

/** The rates (bit/s) `tap` is shaped to, each way, as the kernel holds them; null where it is not. */
export async function tapShaping(cmds: Commands, tap: string): Promise<{ toGuest: number | null; fromGuest: number | null }> {
  const rateOf = async (dev: string): Promise<number | null> => {
    if (!(await findLink(cmds, dev))) return null;
    const qdiscs = JSON.parse((await cmds.tc(['-j', 'qdisc', 'show', 'dev', dev])) || '[]') as Array<{ kind: string; root?: boolean; options?: { rate?: number } }>;
    const root = qdiscs.find((q) => q.kind === 'tbf' && q.root);
    return root?.options?.rate === undefined ? null : root.options.rate * 8;
  };
  const ingress = await cmds.tc(['filter', 'show', 'dev', tap, 'parent', 'ffff:']).catch(() => '');
  const ifb = shaperName(tap);
  return { toGuest: await rateOf(tap), fromGuest: ingress.includes(`to device ${ifb})`) ? await rateOf(ifb) : null };
}
