// The service's last look at an input before the scheduler hears it: numbers the store's columns
// can hold (finite, whole where they must be, within core/limits.ts) and names it can hold (no NUL,
// no half of a surrogate pair, which PostgreSQL's text and jsonb refuse). An input the scheduler
// has heard and the store then fails to write stops the service for everyone until a restart, so
// it must be refused before. The API's schemas and the agents' (drivers/qemu/agent-messages.ts)
// refuse all of this first, naming the field; this catches every other way in.

import type { CostFigures } from '../core/cost-figures.ts';
import {
  LARGEST_IMAGE_MIB, LATEST_INSTANT, LONGEST_HOLD_SECONDS, LONGEST_SECONDS, MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB, MOST_NODES, MOST_OCCURRENCES, NODE_ID_PATTERN, UNSTORABLE_CHARACTER,
} from '../core/limits.ts';
import { MAX_ROLES } from '../core/roles.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import { type Refusal, refuse } from './refusal.ts';
import { limitsProblem, MOST_NODE_BANDWIDTH_MBPS } from '../drivers/leased-limits.ts';

/** The slowest rate an operation may be planned at: the largest VM's memory in at most LONGEST_SECONDS. */
export const SLOWEST_RATE_MIBPS = MOST_MEMORY_MIB / LONGEST_SECONDS;

const NODE_ID = new RegExp(NODE_ID_PATTERN);
const UNSTORABLE_TEXT = new RegExp(UNSTORABLE_CHARACTER, 'u');

const whole = (v: unknown, min: number, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const within = (v: unknown, above: number, max: number): boolean => typeof v === 'number' && Number.isFinite(v) && v > above && v <= max;
const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max && !UNSTORABLE_TEXT.test(v);

type Check = [ok: boolean, path: string, rule: string, value: unknown];

function firstFailed(what: string, checks: Check[]): Refusal | null {
  const failed = checks.find(([ok]) => !ok);
  if (!failed) return null;
  const [, path, rule, value] = failed;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
  return refuse('invalid-request', `${what}: ${path} must be ${rule}, got ${shown}`, { path });
}

export function requestProblem(req: LeaseRequest): Refusal | null {
  const r = req.recurrence;
  const limits = [{ at: 'body', perNode: req.perNode }, ...(req.roles ?? []).map((role, i) => ({ at: `body.roles.${i}`, perNode: role.perNode }))]
    .map(({ at, perNode }) => ({ at, problem: limitsProblem(perNode, at) })).find((l) => l.problem);
  if (limits) return refuse('invalid-request', `lease request: ${limits.problem}`, { path: limits.at });
  return firstFailed('lease request', [
    ...rolesChecks(req),
    [text(req.id, 128), 'id', 'a name of at most 128 characters', req.id],
    [whole(req.nodes, 1, MOST_NODES), 'body.nodes', `a whole number from 1 to ${MOST_NODES}`, req.nodes],
    [within(req.perNode.cpu, 0, MOST_CPUS), 'body.cpu', `a number above 0 and at most ${MOST_CPUS}`, req.perNode.cpu],
    [whole(req.perNode.memoryMiB, 1, MOST_MEMORY_MIB), 'body.memoryMiB', `a whole number of MiB from 1 to ${MOST_MEMORY_MIB}`, req.perNode.memoryMiB],
    [whole(req.perNode.diskMiB, 0, MOST_DISK_MIB), 'body.diskMiB', `a whole number of MiB from 0 to ${MOST_DISK_MIB}`, req.perNode.diskMiB],
    [whole(req.duration, 1, LONGEST_SECONDS), 'body.duration', `a whole number of seconds from 1 to ${LONGEST_SECONDS}`, req.duration],
    [req.requestedStart === null || whole(req.requestedStart, 0, LATEST_INSTANT), 'body.start', `epoch seconds up to ${LATEST_INSTANT}`, req.requestedStart],
    [req.deadline === undefined || whole(req.deadline, 0, LATEST_INSTANT), 'body.deadline', `epoch seconds up to ${LATEST_INSTANT}`, req.deadline],
    [req.image === undefined || text(req.image.id, 128), 'body.image', 'a registered image name', req.image?.id],
    [req.image === undefined || whole(req.image.sizeMiB, 1, LARGEST_IMAGE_MIB), 'body.image', `an image of at most ${LARGEST_IMAGE_MIB} MiB`, req.image?.sizeMiB],
    [r === undefined || whole(r.period, 1, LONGEST_SECONDS), 'body.recurrence.period', `a whole number of seconds from 1 to ${LONGEST_SECONDS}`, r?.period],
    [r?.count === undefined || whole(r.count, 1, MOST_OCCURRENCES), 'body.recurrence.count', `a whole number from 1 to ${MOST_OCCURRENCES}`, r?.count],
    [r?.until === undefined || whole(r.until, 0, LATEST_INSTANT), 'body.recurrence.until', `epoch seconds up to ${LATEST_INSTANT}`, r?.until],
  ]);
}

/** A cluster's roles and the text for its guests: what the store keeps of them (names, numbers) must fit, as for any request. */
function rolesChecks(req: LeaseRequest): Check[] {
  const checks: Check[] = [
    [req.userData === undefined || (typeof req.userData === 'string' && req.userData.length <= 16_384 && !UNSTORABLE_TEXT.test(req.userData)), 'body.userData', 'text of at most 16 KiB without NUL', req.userData],
    [req.sshPublicKeys === undefined || (req.sshPublicKeys.length <= 16 && req.sshPublicKeys.every((k) => text(k, 4096))), 'body.sshPublicKeys', 'at most 16 keys of at most 4096 characters', req.sshPublicKeys?.length],
    [req.roles === undefined || req.roles.length <= MAX_ROLES, 'body.roles', `at most ${MAX_ROLES} roles`, req.roles?.length],
  ];
  for (const [i, role] of (req.roles ?? []).slice(0, MAX_ROLES).entries()) {
    const at = `body.roles.${i}`;
    checks.push(
      [text(role.name, 31), `${at}.name`, 'a role name', role.name],
      [whole(role.count, 1, MOST_NODES), `${at}.count`, `a whole number from 1 to ${MOST_NODES}`, role.count],
      [within(role.perNode.cpu, 0, MOST_CPUS), `${at}.cpu`, `a number above 0 and at most ${MOST_CPUS}`, role.perNode.cpu],
      [whole(role.perNode.memoryMiB, 1, MOST_MEMORY_MIB), `${at}.memoryMiB`, `a whole number of MiB from 1 to ${MOST_MEMORY_MIB}`, role.perNode.memoryMiB],
      [whole(role.perNode.diskMiB, 0, MOST_DISK_MIB), `${at}.diskMiB`, `a whole number of MiB from 0 to ${MOST_DISK_MIB}`, role.perNode.diskMiB],
      [role.image === undefined || text(role.image.id, 128), `${at}.image`, 'a registered image name', role.image?.id],
      [[...role.provides, ...role.requires].every((e) => text(e, 128)), `${at}.provides`, 'entry names', role.name],
    );
  }
  return checks;
}

export function nodeProblem(spec: NodeSpec): Refusal | null {
  return firstFailed(`node '${String(spec.id).slice(0, 80)}'`, [
    [typeof spec.id === 'string' && NODE_ID.test(spec.id), 'body.id', '1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit', spec.id],
    [within(spec.cpu, 0, MOST_CPUS), 'body.cpu', `a number above 0 and at most ${MOST_CPUS}`, spec.cpu],
    [whole(spec.memoryMiB, 1, MOST_MEMORY_MIB), 'body.memoryMiB', `a whole number of MiB from 1 to ${MOST_MEMORY_MIB}`, spec.memoryMiB],
    [whole(spec.diskMiB, 0, MOST_DISK_MIB), 'body.diskMiB', `a whole number of MiB from 0 to ${MOST_DISK_MIB}`, spec.diskMiB],
    [spec.bandwidthMbps === undefined || within(spec.bandwidthMbps, 0, MOST_NODE_BANDWIDTH_MBPS), 'body.bandwidthMbps', `a number of Mbit/s above 0 and at most ${MOST_NODE_BANDWIDTH_MBPS}, or none`, spec.bandwidthMbps],
  ]);
}

export function holdProblem(ttlSeconds: number): Refusal | null {
  return firstFailed('hold', [[whole(ttlSeconds, 1, LONGEST_HOLD_SECONDS), 'body.ttl', `a whole number of seconds from 1 to ${LONGEST_HOLD_SECONDS}`, ttlSeconds]]);
}

/** Rates so slow, or boots so long, that plans would reach instants no column holds. */
export function costsProblem(figures: CostFigures): Refusal | null {
  const rate = (v: number | undefined): boolean => v === undefined || (Number.isFinite(v) && v >= SLOWEST_RATE_MIBPS);
  return firstFailed('measured costs', [
    [rate(figures.suspendRateMBps), 'suspendRateMBps', `at least ${SLOWEST_RATE_MIBPS.toFixed(3)} MiB/s`, figures.suspendRateMBps],
    [rate(figures.resumeRateMBps), 'resumeRateMBps', `at least ${SLOWEST_RATE_MIBPS.toFixed(3)} MiB/s`, figures.resumeRateMBps],
    [rate(figures.migrateBandwidthMBps), 'migrateBandwidthMBps', `at least ${SLOWEST_RATE_MIBPS.toFixed(3)} MiB/s`, figures.migrateBandwidthMBps],
    [figures.bootSeconds === undefined || whole(figures.bootSeconds, 0, LONGEST_SECONDS), 'bootSeconds', `a whole number of seconds up to ${LONGEST_SECONDS}`, figures.bootSeconds],
  ]);
}
