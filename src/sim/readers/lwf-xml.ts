import { checkRoles, clusterEnvelope } from '../../core/roles.ts';
import { type ClusterRole, type ImageRef, type LeaseChange, type LeaseKind, type LeaseRequest, type TimedChange, type NetworkName, NETWORK_NAMES, type Recurrence, type Resources } from '../../core/types.ts';
import { TraceError } from './errors.ts';
import { parseLwfTime } from './lwf-time.ts';
import { parseXml, type XmlElement } from './xml.ts';

export interface LwfOptions {
  /** Keep an exact lease that starts before it arrives instead of rejecting the file. */
  allowStartBeforeArrival?: boolean;
}

const START_TERMS = 'use <start/>, or in <start> one of <exact time="..."/>, <now/>, <urgent/>, <periodic time="..." period="..." count="..."/>';
const TIME_FORMAT = 'write times as [DD:]HH:MM:SS[.ss] from the workload start';

// Reads the parts of one LWF document, so that each error can name the file
// and the line of the element at fault.
class LwfReader {
  constructor(readonly file: string, readonly opts: LwfOptions) {}

  error(element: XmlElement, problem: string, remedy: string): TraceError {
    return new TraceError(this.file, element.line, problem, remedy);
  }

  // The vocabulary inside these elements is closed: a misspelt element would
  // otherwise be dropped without a word.
  onlyChildren(element: XmlElement, allowed: readonly string[]): void {
    for (const child of element.children) {
      if (!allowed.includes(child.name)) {
        throw this.error(child, `unexpected <${child.name}> inside <${element.name}>`,
          `expected only ${allowed.map((name) => `<${name}>`).join(', ')}`);
      }
    }
  }

  child(element: XmlElement, name: string, required: true): XmlElement;
  child(element: XmlElement, name: string, required: false): XmlElement | undefined;
  child(element: XmlElement, name: string, required: boolean): XmlElement | undefined {
    const found = element.children.filter((child) => child.name === name);
    if (found.length > 1) throw this.error(found[1], `more than one <${name}> inside <${element.name}>`, 'keep one');
    if (required && found.length === 0) {
      throw this.error(element, `<${element.name}> has no <${name}>`, `add a <${name}> element`);
    }
    return found[0];
  }

  attribute(element: XmlElement, name: string): string {
    const value = element.attributes.get(name);
    if (value === undefined) {
      throw this.error(element, `<${element.name}> lacks the required attribute ${name}`, `add ${name}="..."`);
    }
    return value;
  }

  time(element: XmlElement, name: string): number {
    const value = this.attribute(element, name);
    const seconds = parseLwfTime(value);
    if (seconds === null) {
      throw this.error(element, `malformed time ${name}="${value}" in <${element.name}>`, TIME_FORMAT);
    }
    return seconds;
  }

  wholeNumber(element: XmlElement, name: string, least: number): number {
    const value = this.attribute(element, name);
    const number = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!(number >= least)) {
      throw this.error(element, `${name}="${value}" in <${element.name}> is not a whole number >= ${least}`,
        'fix the attribute');
    }
    return number;
  }

  nodeSet(nodeSet: XmlElement): { count: number; perNode: Resources } {
    this.onlyChildren(nodeSet, ['res']);
    const count = this.wholeNumber(nodeSet, 'numnodes', 1);
    const amounts = new Map<string, number>();
    for (const res of nodeSet.children) {
      const type = this.attribute(res, 'type');
      if (res.children.length > 0) {
        throw this.error(res, `<res type="${type}"> has per-instance amounts`, 'give a single amount="..." instead');
      }
      if (amounts.has(type)) throw this.error(res, `resource ${type} appears twice in one <node-set>`, 'keep one');
      amounts.set(type, this.wholeNumber(res, 'amount', 0));
    }
    for (const type of ['CPU', 'Memory']) {
      if (!amounts.has(type)) {
        throw this.error(nodeSet, `<node-set> has no <res type="${type}">`, `add <res type="${type}" amount="..."/>`);
      }
    }
    // Other types (Net-in, Net-out) have no counterpart in the lease model.
    return {
      count,
      perNode: { cpu: amounts.get('CPU')! / 100, memoryMiB: amounts.get('Memory')!, diskMiB: amounts.get('Disk') ?? 0 },
    };
  }

  nodes(nodes: XmlElement): { count: number; perNode: Resources; roles?: ClusterRole[] } {
    this.onlyChildren(nodes, ['node-set']);
    if (nodes.children.length === 0) {
      throw this.error(nodes, '<nodes> has no <node-set>', 'add <node-set numnodes="...">');
    }
    const sets = nodes.children.map((nodeSet) => this.nodeSet(nodeSet));
    const named = nodes.children.filter((set) => set.attributes.has('role'));
    if (named.length > 0) return this.cluster(nodes, sets);
    const [first] = sets;
    const sameResources = (r: Resources) =>
      r.cpu === first.perNode.cpu && r.memoryMiB === first.perNode.memoryMiB && r.diskMiB === first.perNode.diskMiB;
    // A LeaseRequest gives every node the same resources.
    if (!sets.every((set) => sameResources(set.perNode))) {
      throw this.error(nodes, 'node sets with different resources in one lease are not supported',
        'split the lease, or give every <node-set> the same resources');
    }
    return { count: sets.reduce((sum, set) => sum + set.count, 0), perNode: first.perNode };
  }

  /**
   * A cluster: one <node-set> per role, each with role="NAME" and optionally min="N" (members that
   * must come up), networks="public private", provides="ENTRY ..." and requires="ROLE.ENTRY ...".
   */
  cluster(nodes: XmlElement, sets: ReadonlyArray<{ count: number; perNode: Resources }>): { count: number; perNode: Resources; roles: ClusterRole[] } {
    const roles = nodes.children.map((set, k): ClusterRole => {
      if (!set.attributes.has('role')) {
        throw this.error(set, 'a <node-set> without role="..." in a lease whose other node sets name their roles',
          'name the role of every <node-set> of a cluster, or of none');
      }
      const role: ClusterRole = {
        name: this.attribute(set, 'role').trim(), count: sets[k].count, perNode: sets[k].perNode,
        networks: this.networks(set), provides: this.list(set, 'provides'), requires: this.list(set, 'requires'),
      };
      if (set.attributes.has('min')) role.minCount = this.wholeNumber(set, 'min', 1);
      return role;
    });
    const bad = checkRoles(roles);
    if (bad) {
      // The first node set of the role the message names, or the whole <nodes>.
      const at = nodes.children.find((set, k) => bad.message.includes(`'${roles[k].name}'`)) ?? nodes;
      throw this.error(at, bad.message, 'fix the <node-set> attributes (role, min, networks, provides, requires)');
    }
    const { nodes: count, perNode } = clusterEnvelope(roles);
    return { count, perNode, roles };
  }

  list(set: XmlElement, name: string): string[] {
    const value = set.attributes.get(name);
    return value === undefined ? [] : value.split(/\s+/).filter((x) => x !== '');
  }

  networks(set: XmlElement): NetworkName[] {
    const value = set.attributes.get('networks');
    if (value === undefined) return ['private'];
    const names = this.list(set, 'networks');
    for (const n of names) {
      if (!(NETWORK_NAMES as readonly string[]).includes(n)) {
        throw this.error(set, `unknown network "${n}" in networks="${value}"`, `use ${NETWORK_NAMES.join(' and/or ')}, separated by spaces`);
      }
    }
    return names as NetworkName[];
  }

  start(start: XmlElement): { kind: LeaseKind; requestedStart: number | null; recurrence?: Recurrence } {
    if (/\S/.test(start.text)) throw this.error(start, `unknown start term "${start.text.trim()}"`, START_TERMS);
    if (start.children.length === 0) return { kind: 'best-effort', requestedStart: null };
    const [term, extra] = start.children;
    if (extra) throw this.error(extra, 'more than one start term in <start>', START_TERMS);
    if (term.name === 'exact') return { kind: 'exact', requestedStart: this.time(term, 'time') };
    if (term.name === 'now') return { kind: 'immediate', requestedStart: null };
    if (term.name === 'urgent') return { kind: 'urgent', requestedStart: null };
    if (term.name === 'periodic') return { kind: 'periodic', requestedStart: this.time(term, 'time'), recurrence: this.recurrence(term) };
    throw this.error(term, `unknown start term <${term.name}>`, START_TERMS);
  }

  recurrence(term: XmlElement): Recurrence {
    const period = this.time(term, 'period');
    if (period <= 0) throw this.error(term, 'period="..." in <periodic> must be longer than 0 s', 'fix the period');
    const hasCount = term.attributes.has('count');
    if (hasCount === term.attributes.has('until')) {
      throw this.error(term, '<periodic> needs exactly one of count="N" or until="TIME"', 'say how many occurrences, or until when');
    }
    const recurrence: Recurrence = hasCount ? { period, count: this.wholeNumber(term, 'count', 1) } : { period, until: this.time(term, 'until') };
    const partial = term.attributes.get('partial');
    if (partial !== undefined) {
      if (partial !== 'true' && partial !== 'false') throw this.error(term, `partial="${partial}" is neither true nor false`, 'write partial="true" or "false"');
      recurrence.acceptPartial = partial === 'true';
    }
    return recurrence;
  }

  software(software: XmlElement): ImageRef | undefined {
    this.onlyChildren(software, ['disk-image', 'none']);
    const [choice, extra] = software.children;
    if (!choice || extra) {
      throw this.error(software, '<software> must hold exactly one of <disk-image> or <none/>', 'fix <software>');
    }
    if (choice.name === 'none') return undefined;
    const id = this.attribute(choice, 'id');
    if (id.trim() === '') throw this.error(choice, '<disk-image> has an empty id', 'name the image');
    return { id, sizeMiB: this.wholeNumber(choice, 'size', 0) };
  }

  positiveTime(element: XmlElement): number {
    return this.positiveTimeOf(element, 'time');
  }

  leaseRequest(request: XmlElement, ordinal: number): LeaseRequest {
    this.onlyChildren(request, ['lease', 'realduration', 'change']);
    const arrival = this.time(request, 'arrival');
    const lease = this.child(request, 'lease', true);
    // 'extra' holds attributes for Haizea's pluggable modules; the lease model has no place for them.
    this.onlyChildren(lease, ['nodes', 'start', 'duration', 'realduration', 'software', 'deadline', 'extra']);

    const preemptibleText = this.attribute(lease, 'preemptible').trim().toLowerCase();
    if (preemptibleText !== 'true' && preemptibleText !== 'false') {
      throw this.error(lease, `preemptible="${preemptibleText}" is neither true nor false`,
        'write preemptible="true" or "false"');
    }
    const deadlineElement = this.child(lease, 'deadline', false);
    const { count, perNode, roles } = this.nodes(this.child(lease, 'nodes', true));
    const start = this.child(lease, 'start', true);
    const term = this.start(start);
    let { kind } = term;
    const { requestedStart, recurrence } = term;
    let deadline: number | undefined;
    if (deadlineElement) {
      // As in Haizea, a deadline lease may also give an earliest start: <start><exact time=.../></start>.
      if (kind !== 'best-effort' && kind !== 'exact') {
        throw this.error(deadlineElement, `a <deadline> lease cannot have the start term <${start.children[0].name}>`,
          'give <start/> (from arrival) or <start><exact time="..."/></start> (the earliest start)');
      }
      kind = 'deadline';
      deadline = this.time(deadlineElement, 'time');
    }
    if (requestedStart !== null && requestedStart < arrival && !this.opts.allowStartBeforeArrival) {
      throw this.error(start, `exact start ${requestedStart} s is before arrival ${arrival} s`,
        'a lease cannot be requested after it starts; fix the times, or read with allowStartBeforeArrival to keep it');
    }
    const duration = this.positiveTime(this.child(lease, 'duration', true));
    // Haizea puts <realduration> beside <lease>; inside it is accepted too.
    const outer = this.child(request, 'realduration', false);
    const inner = this.child(lease, 'realduration', false);
    if (outer && inner) throw this.error(inner, '<realduration> given both inside and beside <lease>', 'keep one');
    const realDurationElement = outer ?? inner;
    const software = this.child(lease, 'software', false);
    const image = software ? this.software(software) : undefined;

    const leaseRequest: LeaseRequest = {
      id: lease.attributes.get('id')?.trim() || `lwf-${ordinal}`,
      kind,
      arrival,
      requestedStart,
      duration,
      nodes: count,
      perNode,
      preemptible: preemptibleText === 'true',
    };
    if (deadline !== undefined) {
      if (deadline <= (requestedStart ?? arrival)) {
        throw this.error(deadlineElement!, `deadline ${deadline} s is not after the earliest start ${requestedStart ?? arrival} s`, 'fix the times');
      }
      leaseRequest.deadline = deadline;
    }
    if (recurrence) leaseRequest.recurrence = recurrence;
    if (roles) leaseRequest.roles = roles;
    if (realDurationElement) leaseRequest.realDuration = this.positiveTime(realDurationElement);
    if (image) leaseRequest.image = image;
    const changes = request.children.filter((c) => c.name === 'change').map((c) => this.change(c, arrival));
    if (changes.length > 0) leaseRequest.changes = changes.sort((a, b) => a.at - b.at);
    return leaseRequest;
  }

  /**
   * A change the lease's owner asks for while it lives (vws's own element, not Haizea's):
   * <change at="TIME" duration="TIME" start="TIME" nodes="N" cpu="PERCENT" memory="MiB" realduration="TIME"/>,
   * at least one besides at; cpu in percent of a CPU, as <res type="CPU"> has it.
   */
  change(element: XmlElement, arrival: number): TimedChange {
    const at = this.time(element, 'at');
    if (at < arrival) throw this.error(element, `<change at="${element.attributes.get('at')}"> is before the lease's arrival (${arrival} s)`, 'a lease is changed after it is requested: fix at="..."');
    const known = ['at', 'duration', 'start', 'nodes', 'cpu', 'memory', 'realduration'];
    const unknown = [...element.attributes.keys()].find((k) => !known.includes(k));
    if (unknown) throw this.error(element, `unknown attribute ${unknown}="..." in <change>`, `use ${known.join(', ')}`);
    const change: LeaseChange = {};
    if (element.attributes.has('duration')) change.duration = this.positiveTimeOf(element, 'duration');
    if (element.attributes.has('start')) change.start = this.time(element, 'start');
    if (element.attributes.has('nodes')) change.nodes = this.wholeNumber(element, 'nodes', 1);
    if (element.attributes.has('cpu')) change.cpu = this.wholeNumber(element, 'cpu', 1) / 100;
    if (element.attributes.has('memory')) change.memoryMiB = this.wholeNumber(element, 'memory', 1);
    if (element.attributes.has('realduration')) change.realDuration = this.positiveTimeOf(element, 'realduration');
    if (Object.keys(change).length === 0) throw this.error(element, '<change> changes nothing', 'give at least one of duration, start, nodes, cpu, memory, realduration');
    return { at, change };
  }

  positiveTimeOf(element: XmlElement, name: string): number {
    const seconds = this.time(element, name);
    if (seconds <= 0) throw this.error(element, `${name === 'time' ? '' : `${name}="..." in `}<${element.name}> must be longer than 0 s`, 'fix the time');
    return seconds;
  }
}

/**
 * Leases from a Haizea XML lease workload (LWF): `<lease-workload>` with
 * `<lease-requests>` of `<lease-request arrival>`. Leases come in arrival
 * order, ties in file order; a lease without an id attribute gets `lwf-K`,
 * K counting lease requests from 1.
 */
export function parseLwfXml(text: string, file: string, opts: LwfOptions = {}): LeaseRequest[] {
  const root = parseXml(text, file);
  const reader = new LwfReader(file, opts);
  if (root.name !== 'lease-workload') {
    throw reader.error(root, `the root element is <${root.name}>, not <lease-workload>`, 'is this a Haizea LWF file?');
  }
  const requests = reader.child(root, 'lease-requests', true);
  reader.onlyChildren(requests, ['lease-request']);

  const leases: LeaseRequest[] = [];
  const lineOfId = new Map<string, number>();
  requests.children.forEach((request, index) => {
    const lease = reader.leaseRequest(request, index + 1);
    const earlier = lineOfId.get(lease.id);
    if (earlier !== undefined) {
      throw reader.error(request, `lease id "${lease.id}" is already used at line ${earlier}`,
        'give each lease its own id');
    }
    lineOfId.set(lease.id, request.line);
    leases.push(lease);
  });
  return leases.sort((a, b) => a.arrival - b.arrival);
}
