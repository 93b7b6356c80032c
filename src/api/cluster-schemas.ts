// The parts of a lease body that make a virtual cluster (roles) or reach its guests (user-data,
// ssh keys). Name patterns come from core/roles.ts, so the API accepts exactly what the core's
// checkRoles calls a name; what no schema can say (unique names, requirements met) is checkRoles'.

import { Type } from '@sinclair/typebox';
import { ENTRY_NAME, MAX_ROLES, ROLE_NAME } from '../core/roles.ts';
import { MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB, MOST_NODES } from './limits.ts';
import { LimitFields } from './limit-schemas.ts';

const strict = { additionalProperties: false } as const;
/** A core pattern without its anchors, to be part of a larger one. */
const inner = (r: RegExp): string => r.source.replace(/^\^/, '').replace(/\$$/, '');

/** Entries one role may provide or require: far more than any cluster names, few enough to check quickly. */
export const MOST_ENTRIES = 64;
/** The lease's own cloud-init user-data, in bytes of UTF-8. */
export const MOST_USER_DATA_BYTES = 16 * 1024;
export const MOST_SSH_KEYS = 16;
/** An OpenSSH public key line: a 16384-bit RSA key is about 2,800 characters. */
export const LONGEST_SSH_KEY = 4096;
export const SSH_KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'] as const;
/** TYPE BASE64 [comment], the comment printable ASCII on one line (it reaches authorized_keys and YAML). */
export const SSH_KEY_PATTERN = `^(${SSH_KEY_TYPES.join('|')}) [A-Za-z0-9+/]+={0,2}( [ -~]{1,200})?$`;

export const Role = Type.Object({
  name: Type.String({ pattern: ROLE_NAME.source, description: 'a lower-case letter then up to 30 of a-z, 0-9 and "-"; unique in the cluster' }),
  count: Type.Integer({ minimum: 1, maximum: MOST_NODES, description: 'VMs of this role' }),
  minCount: Type.Optional(Type.Integer({ minimum: 1, maximum: MOST_NODES, description: 'how many of them must come up with their context for the role to be up (default: count)' })),
  cpu: Type.Number({ exclusiveMinimum: 0, maximum: MOST_CPUS, description: 'CPUs per VM (may be fractional)' }),
  memoryMiB: Type.Integer({ minimum: 1, maximum: MOST_MEMORY_MIB }),
  diskMiB: Type.Optional(Type.Integer({ minimum: 0, maximum: MOST_DISK_MIB })),
  ...LimitFields,
  image: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a registered image name the caller may use' })),
  networks: Type.Array(Type.Union([Type.Literal('public'), Type.Literal('private')]), {
    minItems: 1, maxItems: 2, description: 'public: an address on the site\'s network; private: the cluster\'s own network',
  }),
  provides: Type.Array(Type.String({ pattern: ENTRY_NAME.source }), {
    maxItems: MOST_ENTRIES, description: 'context entries its members publish (every member provides ip, hostname and host-key unasked)',
  }),
  requires: Type.Array(Type.String({ pattern: `^${inner(ROLE_NAME)}\\.${inner(ENTRY_NAME)}$` }), {
    maxItems: MOST_ENTRIES, description: 'ROLE.ENTRY: entries of other roles its members need before they are configured',
  }),
}, { ...strict, description: 'one group of identical VMs in a cluster lease' });

export const Roles = Type.Array(Role, {
  minItems: 1, maxItems: MAX_ROLES,
  description: `a cluster lease's roles, instead of nodes/cpu/memoryMiB/diskMiB/image: its VMs start, stop, suspend, resume and move together; the counts add up to at most ${MOST_NODES}. `
    + 'Refused, changing nothing, at quote time as at create: invalid-request (400) when the roles do not make a cluster (a name used twice, a requirement no role provides, ...), '
    + 'unknown-image (422) for a role\'s image the caller may not use, exceeds-pool (422) when a role is too large for any node or has more VMs than the nodes that can hold it',
});

export const UserData = Type.String({
  maxLength: MOST_USER_DATA_BYTES,
  description: `the lease's own cloud-init user-data (#cloud-config, a script, ...), at most ${MOST_USER_DATA_BYTES} bytes of UTF-8, given to every VM as it is`,
});

export const SshPublicKeys = Type.Array(Type.String({ maxLength: LONGEST_SSH_KEY, pattern: SSH_KEY_PATTERN }), {
  maxItems: MOST_SSH_KEYS,
  description: `OpenSSH public keys (${SSH_KEY_TYPES.join(', ')}: "TYPE BASE64 [comment]") put in the VMs' authorized_keys`,
});
