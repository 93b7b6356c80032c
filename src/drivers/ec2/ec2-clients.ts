// One SDK client per EC2 account of the site's configuration, made when first needed. An account
// is known by its identity (its access key id or profile name, never its secret), which is what
// the driver's state file records for each VM.

import { EC2Client } from '@aws-sdk/client-ec2';
import { DriverError } from '../driver.ts';
import type { Ec2Account, Ec2SiteConfig } from './site-config.ts';

/**
 * The SDK warns, on a Node older than 22, that its versions published after January 2027 will need
 * Node 22. vws pins its SDK (package-lock.json), which runs on the Node 20 this service supports, so
 * the warning asks operators for nothing they can do; it is silenced unless the operator set the
 * variable either way. Moving the SDK past that version means moving to Node 22 (docs/ec2-backend.md).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Who an account is, without its secret. */
export function identityOf(a: Ec2Account): string {
  return 'profile' in a ? `profile:${a.profile}` : `key:${a.accessKeyId}`;
}

export class Ec2Clients {
  private readonly clients = new Map<string, EC2Client>();

  /** `maxAttempts`: per call, throttling included (the SDK backs off between them). */
  constructor(private readonly config: Ec2SiteConfig, private readonly configFile = 'the EC2 site configuration', private readonly maxAttempts = 5) {}

  of(account: Ec2Account): EC2Client {
    const identity = identityOf(account);
    let client = this.clients.get(identity);
    if (!client) {
      const { endpoint, region } = this.config;
      client = new EC2Client({
        region, maxAttempts: this.maxAttempts, ...(endpoint ? { endpoint } : {}),
        ...('profile' in account ? { profile: account.profile } : { credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey } }),
      });
      this.clients.set(identity, client);
    }
    return client;
  }

  /** The client of an account the state file names; refused if the configuration no longer has it. */
  byIdentity(identity: string): EC2Client {
    const account = this.accounts().find((a) => identityOf(a) === identity);
    if (!account) throw new DriverError(identity, `the EC2 account ${identity} is no longer in ${this.configFile}: its instances cannot be reached`);
    return this.of(account);
  }

  /** Every distinct account of the configuration, with its client. */
  all(): Array<[string, EC2Client]> {
    const byIdentity = new Map(this.accounts().map((a) => [identityOf(a), a]));
    return [...byIdentity].map(([identity, a]) => [identity, this.of(a)]);
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private accounts(): Ec2Account[] {
    const { users = {}, groups = {}, default: fallback } = this.config.accounts;
    return [...Object.values(users), ...Object.values(groups), ...(fallback ? [fallback] : [])];
  }
}
