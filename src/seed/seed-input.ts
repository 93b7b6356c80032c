// What a workspace's NoCloud seed is made from, and the checks every input passes before any of it
// is written: each a value a user or the service chose, so each is bounded and has one form. A
// problem is reported by its field with what to do, never repaired.

import { ENTRY_NAME } from '../core/roles.ts';

/** As many entries as a role may declare (the API's bound). */
const MAX_PROVIDES = 64;

/** A context member's id, as the broker registers it (ROLE-K): safe in a path, a URL and a log line. */
export const MEMBER_ID = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

/** A network interface of the VM: the guest renames the NIC with this MAC to `name`. */
export interface SeedNic {
  name: string;
  mac: string;
}

/** What the guest needs to fetch and start the context agent (absent when no broker is wired). */
export interface SeedBroker {
  /** Where the context agent program is served (a Python 3 program). */
  agentUrl: string;
  /** Checked before the fetched agent runs, when given (lowercase hex). */
  agentSha256?: string;
  /** Where the context agent talks to the service. */
  serviceUrl: string;
  /** This VM's one-time secret: good for one exchange, written readable by root only. */
  secret: string;
  /** The VM's member id in its cluster's context (ROLE-K); absent: its workspace id. */
  member?: string;
  /** The service's signing key (Ed25519, PEM or base64) the agent checks what it is sent with. */
  publicKey: string;
  /** The entries the member's role provides beyond ip, hostname and host-key (its user-data writes them). */
  provides?: string[];
}

export interface SeedInput {
  /** The workspace's id (LEASE/INDEX): its instance-id, which stays the same across suspend and migration. */
  workspaceId: string;
  hostname: string;
  /** The fqdn is hostname.domain when given. */
  domain?: string;
  nics: SeedNic[];
  /** The lease owner's ssh public keys, one per entry (authorized_keys lines). */
  sshKeys?: string[];
  /** Who the keys are for: root (the default) or a user made for them. */
  sshUser?: string;
  broker?: SeedBroker;
  /** The lease's own user-data: a #cloud-config document, a script (#!), or another cloud-init part type. */
  userData?: string;
}

/** The three files of a NoCloud seed, as the guest reads them from the `cidata` volume. */
export interface NoCloudSeed {
  metaData: string;
  userData: string;
  networkConfig: string;
}

export const MOST_NICS = 8;
export const MOST_SSH_KEYS = 16;
export const LONGEST_SSH_KEY = 4096;
/** As EC2 bounds an instance's user data. */
export const LONGEST_USER_DATA_BYTES = 16_384;
export const LONGEST_URL = 2048;
export const LONGEST_PUBLIC_KEY = 4096;

export const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const WORKSPACE_ID = /^[A-Za-z0-9][A-Za-z0-9._#-]{0,127}\/(0|[1-9][0-9]{0,5})$/;
const NIC_NAME = /^[a-z][a-z0-9]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x21-\x7e][\x20-\x7e]*)?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SECRET = /^[A-Za-z0-9_-]{16,512}$/;
const PUBLIC_KEY = /^[A-Za-z0-9+/= \n-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** The part types cloud-init takes, by the first line's start: a lease's user-data must be one. */
export const USER_DATA_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['#cloud-config-archive', 'text/cloud-config-archive'],
  ['#cloud-config', 'text/cloud-config'],
  ['#cloud-boothook', 'text/cloud-boothook'],
  ['#include', 'text/x-include-url'],
  ['#!', 'text/x-shellscript'],
];

const ssh = 'ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or an sk- key type, a space, the base64 key, and optionally a space and a comment of printable ASCII';

function urlProblem(field: string, url: unknown): string | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > LONGEST_URL) return `${field} must be a URL of 1 to ${LONGEST_URL} characters`;
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url)) return `${field} must be an http:// or https:// URL of printable ASCII without spaces, got ${JSON.stringify(url.slice(0, 60))}`;
  try {
    new URL(url);
  } catch {
    return `${field} is not a URL a client can parse: ${JSON.stringify(url.slice(0, 60))}`;
  }
  return null;
}

/** The part type of a lease's user-data, or what is wrong with it. */
export function userDataType(text: string): { type: string } | { problem: string } {
  if (typeof text !== 'string' || text.length === 0) return { problem: 'userData must be a non-empty string' };
  if (/\p{Cs}/u.test(text)) return { problem: 'userData has half of a UTF-16 surrogate pair: send well-formed Unicode' };
  if (text.includes('\0')) return { problem: 'userData contains a NUL character: cloud-init reads text' };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LONGEST_USER_DATA_BYTES) return { problem: `userData is ${bytes} bytes, over the ${LONGEST_USER_DATA_BYTES} a lease may carry` };
  const found = USER_DATA_TYPES.find(([start]) => text.startsWith(start) && (start === '#!' || /^[ \t]*(\r?\n|$)/.test(text.slice(start.length))));
  if (!found) return { problem: `userData must start with a line cloud-init knows (${USER_DATA_TYPES.map(([s]) => s).join(', ')}), got ${JSON.stringify(text.split('\n')[0].slice(0, 40))}` };
  return { type: found[1] };
}

/** The first thing wrong with a seed's input, by its field, or null. */
export function seedInputProblem(input: SeedInput): string | null {
  if (typeof input.workspaceId !== 'string' || !WORKSPACE_ID.test(input.workspaceId)) return `workspaceId must be a workspace id (LEASE/INDEX), got ${JSON.stringify(String(input.workspaceId).slice(0, 60))}`;
  if (typeof input.hostname !== 'string' || !HOSTNAME_PATTERN.test(input.hostname)) return `hostname must be 1 to 63 lowercase letters, digits or "-", not starting or ending with "-", got ${JSON.stringify(String(input.hostname).slice(0, 70))}`;
  if (input.domain !== undefined) {
    if (typeof input.domain !== 'string' || !DOMAIN.test(input.domain)) return `domain must be dot-separated labels of lowercase letters, digits and "-", got ${JSON.stringify(String(input.domain).slice(0, 70))}`;
    if (input.hostname.length + 1 + input.domain.length > 253) return `hostname.domain is over the 253 characters a DNS name may have`;
  }
  if (!Array.isArray(input.nics) || input.nics.length === 0 || input.nics.length > MOST_NICS) return `nics must list 1 to ${MOST_NICS} network interfaces`;
  const names = new Set<string>();
  const macs = new Set<string>();
  for (const [i, nic] of input.nics.entries()) {
    if (typeof nic?.name !== 'string' || !NIC_NAME.test(nic.name)) return `nics[${i}].name must be 1 to 15 lowercase letters and digits starting with a letter, got ${JSON.stringify(String(nic?.name).slice(0, 40))}`;
    if (typeof nic.mac !== 'string' || !MAC.test(nic.mac)) return `nics[${i}].mac must be a MAC address in lowercase hex (52:54:00:12:34:56), got ${JSON.stringify(String(nic.mac).slice(0, 40))}`;
    if (names.has(nic.name)) return `nics[${i}].name ${nic.name} is given twice: each interface needs its own name`;
    if (macs.has(nic.mac)) return `nics[${i}].mac ${nic.mac} is given twice: each interface needs its own MAC`;
    names.add(nic.name);
    macs.add(nic.mac);
  }
  if (input.sshKeys !== undefined) {
    if (!Array.isArray(input.sshKeys) || input.sshKeys.length > MOST_SSH_KEYS) return `sshKeys must be a list of at most ${MOST_SSH_KEYS} public keys`;
    for (const [i, key] of input.sshKeys.entries()) {
      if (typeof key !== 'string' || key.length > LONGEST_SSH_KEY || !SSH_KEY.test(key)) return `sshKeys[${i}] must be one OpenSSH public key line of at most ${LONGEST_SSH_KEY} characters: ${ssh}`;
    }
  }
  if (input.sshUser !== undefined && (typeof input.sshUser !== 'string' || !USER.test(input.sshUser))) return `sshUser must be a user name (lowercase letters, digits, "_" or "-", at most 32), got ${JSON.stringify(String(input.sshUser).slice(0, 40))}`;
  const b = input.broker;
  if (b !== undefined) {
    const wrongUrl = urlProblem('broker.agentUrl', b.agentUrl) ?? urlProblem('broker.serviceUrl', b.serviceUrl);
    if (wrongUrl) return wrongUrl;
    if (b.agentSha256 !== undefined && (typeof b.agentSha256 !== 'string' || !SHA256.test(b.agentSha256))) return 'broker.agentSha256 must be 64 lowercase hex digits';
    if (typeof b.secret !== 'string' || !SECRET.test(b.secret)) return 'broker.secret must be 16 to 512 characters of base64url (A-Z, a-z, 0-9, "-", "_")';
    if (typeof b.publicKey !== 'string' || b.publicKey.length > LONGEST_PUBLIC_KEY || !PUBLIC_KEY.test(b.publicKey)) return `broker.publicKey must be a PEM or base64 key of at most ${LONGEST_PUBLIC_KEY} characters`;
    if (b.member !== undefined && (typeof b.member !== 'string' || !MEMBER_ID.test(b.member))) return 'broker.member must be a member id (letters, digits, . _ / -; up to 128), as the broker registered it';
    if (b.provides !== undefined && (!Array.isArray(b.provides) || b.provides.length > MAX_PROVIDES || !b.provides.every((e) => typeof e === 'string' && ENTRY_NAME.test(e)))) {
      return `broker.provides must be at most ${MAX_PROVIDES} entry names (a lower-case letter, then up to 62 of a-z, 0-9 and '-'), as the role declares them`;
    }
  }
  if (input.userData !== undefined) {
    const t = userDataType(input.userData);
    if ('problem' in t) return t.problem;
  }
  return null;
}

/** The instance-id of a workspace: its id with "/" and anything a file name should not hold escaped (cloud-init makes a directory of it). */
export function instanceIdOf(workspaceId: string): string {
  return workspaceId.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A hostname for a workspace of a plain lease: "vws-" and its id with every other character a "-". */
export function hostnameOf(workspaceId: string): string {
  const name = `vws-${workspaceId.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
  return name;
}
