// Servers sharing a store take turns: each either leads (runs the lease service) or follows
// (forwards to the leader), and changes role as the election says. A follower reads the leadership
// every RENEW_MS and campaigns once the leader's term has run out; a leader renews its term every
// RENEW_MS, and steps down when a renewal says another leads, when the fence refuses one of its
// writes, or when it could not renew for a whole term (cut off from the database: by then another
// may lead, and deciding on would be deciding blind).

import { hostname } from 'node:os';
import { startFollower, type FollowerServer } from '../api/follower-server.ts';
import { type Leader, RENEW_MS, type StoreLeadership, TERM_MS } from '../store/leadership.ts';
import type { RunningLeader, ServeSettings } from './serve-leader.ts';
import type { Store } from '../store/store.ts';
import { wallClock } from '../control/clock.ts';

export interface Roles {
  /** Resolves once stop() has closed whichever role the server was in. */
  stop(): Promise<void>;
}

type Role = { kind: 'leader'; epoch: number; running: RunningLeader; renewedAt: number } | { kind: 'follower'; server: FollowerServer } | { kind: 'none' };

export function serverName(given: string | undefined): string {
  return given ?? `${hostname()}:${process.pid}`;
}

export async function runRoles(
  s: ServeSettings,
  shared: StoreLeadership,
  store: Store,
  me: { name: string; address: string },
  startLeader: (leadership: () => Record<string, unknown>) => Promise<RunningLeader>,
): Promise<Roles> {
  const log = (line: string): void => void process.stdout.write(`vws serve (${me.name}): ${line}\n`);
  let role: Role = { kind: 'none' };
  let known: Leader | null = null;
  let stopping = false;
  let busy: Promise<void> = Promise.resolve();
  let fenced = false;
  shared.onFenced(() => { fenced = true; });

  const follow = async (): Promise<void> => {
    if (role.kind === 'follower') return;
    const server = await startFollower({ version: s.version, name: me.name, leader: () => (known && !known.expired && known.holder !== me.name ? known : null), tls: s.https, store, now: () => wallClock.now() }, s.host, s.port);
    role = { kind: 'follower', server };
    const other = known && known.holder !== me.name ? known : null;
    log(`following${other ? ` ${other.holder} at ${other.address} (epoch ${other.epoch})` : ' (no other server leads yet)'}; answering at ${server.address}`);
  };

  const lead = async (epoch: number): Promise<void> => {
    shared.fence(epoch);
    fenced = false;
    if (role.kind === 'follower') await role.server.close();
    role = { kind: 'none' };
    const since = Date.now();
    // The term is renewed while the log is replayed: a replay longer than a term would otherwise
    // hand the leadership to another server before this one has taken a single decision.
    let renewedAt = since;
    let lost = false;
    const renewing = setInterval(() => {
      shared.election.renew(epoch).then((ok) => {
        if (ok) renewedAt = Date.now();
        else lost = true;
      }, () => {});
    }, RENEW_MS);
    let running: RunningLeader;
    try {
      running = await startLeader(() => ({ role: 'leader', server: me.name, leader: { name: me.name, address: me.address, epoch } }));
    } finally {
      clearInterval(renewing);
    }
    role = { kind: 'leader', epoch, running, renewedAt };
    log(`leading as epoch ${epoch} (took ${Date.now() - since} ms to replay the log and start)`);
    if (lost) await stepDown('another server took over the leadership while this one replayed the log');
  };

  const stepDown = async (why: string): Promise<void> => {
    if (role.kind !== 'leader') return;
    const { running } = role;
    role = { kind: 'none' };
    log(`stepping down: ${why}`);
    await running.close().catch((e: Error) => log(`while stepping down: ${e.message}`));
    known = await shared.election.current().catch(() => null);
    await follow();
  };

  const turn = async (): Promise<void> => {
    if (stopping) return;
    if (role.kind === 'leader') {
      if (fenced) return stepDown('the store refused a write: another server leads now');
      const stopped = role.running.stoppedBy();
      if (stopped) {
        // Its scheduler heard what the store lost: a leader that replays the log (another, or this one again) takes over.
        const { epoch } = role;
        await stepDown(stopped.message);
        await shared.election.resign(epoch).catch(() => {});
        return;
      }
      const renewed = await shared.election.renew(role.epoch).catch((e: Error) => { log(`could not renew the leadership: ${e.message}`); return null; });
      if (renewed === false) return stepDown('another server took over the leadership');
      if (renewed) role.renewedAt = Date.now();
      else if (Date.now() - role.renewedAt >= TERM_MS) return stepDown(`the leadership went unrenewed for ${TERM_MS} ms`);
      return;
    }
    known = await shared.election.current().catch(() => known);
    if (!known || known.expired) {
      const epoch = await shared.election.campaign({ holder: me.name, address: me.address }).catch((e: Error) => { log(`could not campaign: ${e.message}`); return null; });
      if (epoch !== null) return lead(epoch);
      // Another won this round: forward to it from now, not from the next turn.
      known = await shared.election.current().catch(() => known);
    }
    await follow();
  };

  // The first turn's failure (a port in use, terms that do not parse) is the command's.
  await turn();
  const timer = setInterval(() => {
    busy = busy.then(turn).catch((e: Error) => log(`role change failed: ${e.stack ?? e.message}`));
  }, RENEW_MS);
  return {
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await busy.catch(() => {});
      const last = role;
      role = { kind: 'none' };
      if (last.kind === 'follower') await last.server.close();
      if (last.kind === 'leader') {
        await last.running.close();
        // So that a follower need not wait out the term.
        await shared.election.resign(last.epoch).catch(() => {});
      }
      await shared.election.close();
    },
  };
}
