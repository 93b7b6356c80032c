// A cluster lease body as the example has it (one head on both networks, two workers on
// the private one), and OpenSSH public key lines made from real key pairs, for the API's tests.

import { generateKeyPairSync } from 'node:crypto';

export const headRole = (over: Record<string, unknown> = {}) => ({
  name: 'head', count: 1, cpu: 1, memoryMiB: 512, networks: ['public', 'private'], provides: ['nfs-export'], requires: [], ...over,
});
export const workerRole = (over: Record<string, unknown> = {}) => ({
  name: 'worker', count: 2, cpu: 0.5, memoryMiB: 256, networks: ['private'], provides: [], requires: ['head.ip', 'head.host-key', 'head.nfs-export'], ...over,
});

export const cluster = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ kind: 'best-effort', duration: 3600, roles: [headRole(), workerRole()], ...over });

/** `ssh-ed25519 BASE64 comment` of a fresh key pair, in SSH's wire form (RFC 8709). */
export function ed25519Line(comment = 'ann@laptop'): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  const raw = der.subarray(der.length - 32);
  return keyLine('ssh-ed25519', [raw], comment);
}

const sshString = (b: Buffer): Buffer => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};

/** `TYPE BASE64 comment` with the key's bytes given: the wire form the service checks, made the same in every run. */
export function keyLine(type: string, fields: Buffer[], comment = 'fuzz@vws'): string {
  return `${type} ${Buffer.concat([sshString(Buffer.from(type)), ...fields.map(sshString)]).toString('base64')} ${comment}`;
}

/** Fixed key lines of each accepted type (the bytes stand in for a key: the service checks the wire form, not the curve). */
export const KEY_LINES: readonly string[] = [
  keyLine('ssh-ed25519', [Buffer.alloc(32, 0x11)]),
  keyLine('ssh-rsa', [Buffer.from([1, 0, 1]), Buffer.alloc(256, 0xc3)], 'rsa@vws'),
  keyLine('ecdsa-sha2-nistp256', [Buffer.from('nistp256'), Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0x22)])], 'ec@vws'),
];
