// Secrets the service must read back in clear (EC2 secret access keys: SigV4 needs the secret
// itself, not a hash) are kept sealed with AES-256-GCM under a key of the server's own, a file in
// its data directory, so that a copy of the store alone gives none of them away.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class SecretBox {
  private key: Buffer | null = null;

  /** The key file is made (0600) on first use, not at start-up: a server that never seals needs none. */
  constructor(readonly keyFile: string) {}

  /** Seals `secret`, bound to `context` (say, the access key id): a sealed value moved to another row does not open. */
  seal(secret: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.ownKey(), iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${FORMAT}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** The secret, or an error that says the key file does not match the store. */
  open(sealed: string, context: string): string {
    const [format, data] = sealed.split(':');
    if (format !== FORMAT || data === undefined) throw new Error(`a sealed secret is in an unknown format ('${format}'); the store was written by another version of vws`);
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.ownKey(), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`a sealed secret does not open with ${this.keyFile}: the key file is not the one the store was written with (restore it, or issue new credentials)`);
    }
  }

  private ownKey(): Buffer {
    if (this.key) return this.key;
    let key: Buffer;
    try {
      key = readFileSync(this.keyFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      key = randomBytes(KEY_BYTES);
      // 'wx': two servers racing to make it cannot both win; the loser reads the winner's.
      try {
        writeFileSync(this.keyFile, key, { flag: 'wx', mode: 0o600 });
      } catch (w) {
        if ((w as NodeJS.ErrnoException).code !== 'EEXIST') throw w;
        key = readFileSync(this.keyFile);
      }
    }
    chmodSync(this.keyFile, 0o600);
    if (key.length !== KEY_BYTES) throw new Error(`${this.keyFile} holds ${key.length} bytes, not a ${KEY_BYTES}-byte key: restore it from a backup, or move it away to make a new one (credentials sealed with it are lost then)`);
    this.key = key;
    return key;
  }
}
