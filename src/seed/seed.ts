// A workspace's NoCloud seed: meta-data (its instance-id and hostname), network-config version 2
// (each NIC matched by MAC, renamed and configured by DHCP) and user-data (vws's #cloud-config,
// then the lease's own user-data, merged by cloud-init). Pure: the same input makes the same bytes,
// so a VM resumed or migrated gets the very seed it booted with.

import { vwsCloudConfig } from './cloud-config.ts';
import { multipart, type MimePart } from './multipart.ts';
import { instanceIdOf, type NoCloudSeed, type SeedInput, seedInputProblem, userDataType } from './seed-input.ts';
import { yamlDocument } from './yaml.ts';

/**
 * How the lease's own #cloud-config merges into vws's: lists are appended to (its runcmd and
 * write_files run beside vws's) and vws's settings stay (its hostname and keys are kept).
 */
export const USER_MERGE_TYPE = 'list(append)+dict(no_replace,recurse_list)+str()';

export class SeedInputError extends Error {}

export function metaData(input: SeedInput): string {
  return yamlDocument({ 'instance-id': instanceIdOf(input.workspaceId), 'local-hostname': input.hostname });
}

export function networkConfig(input: SeedInput): string {
  const ethernets = Object.fromEntries(input.nics.map((nic) => [nic.name, { match: { macaddress: nic.mac }, 'set-name': nic.name, dhcp4: true }]));
  return yamlDocument({ version: 2, ethernets });
}

/** The parts of user-data, vws's first: what the multipart holds, for a test to check one by one. */
export function userDataParts(input: SeedInput): MimePart[] {
  const parts: MimePart[] = [{ type: 'text/cloud-config', filename: 'vws.cfg', content: vwsCloudConfig(input) }];
  if (input.userData !== undefined) {
    const t = userDataType(input.userData);
    if ('problem' in t) throw new SeedInputError(t.problem);
    parts.push({ type: t.type, filename: 'lease-user-data', content: input.userData, ...(t.type === 'text/cloud-config' ? { mergeType: USER_MERGE_TYPE } : {}) });
  }
  return parts;
}

/** The seed for one workspace; throws a SeedInputError saying which input is wrong. */
export function buildSeed(input: SeedInput): NoCloudSeed {
  const problem = seedInputProblem(input);
  if (problem) throw new SeedInputError(problem);
  return { metaData: metaData(input), networkConfig: networkConfig(input), userData: multipart(userDataParts(input)) };
}
