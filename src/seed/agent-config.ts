// What a member's seed carries for its context agent: the file the agent reads (by default
// /etc/vws/context.json, root-only), and the command that fetches and starts the agent. The seed's
// maker (the NoCloud seed of a cluster lease) calls these, so that the agent and the seed agree
// on one format, described in docs/context-broker.md.

/** Where the shipped agent reads its config unless told otherwise. */
export const AGENT_CONFIG_PATH = '/etc/vws/context.json';
/** Where the seed installs the agent it fetched. */
export const AGENT_PATH_IN_GUEST = '/usr/local/sbin/vws-context-agent';

export interface AgentConfig {
  /** The service's base URL as the guest reaches it, e.g. http://10.0.0.1:8080. */
  server: string;
  lease: string;
  member: string;
  /** The member's one-time secret (ContextBroker.register). */
  secret: string;
  hostname: string;
  /** ContextBroker.publicKeyPem. */
  publicKey: string;
  /** The address the member reports; absent: the one it reaches the server from. */
  ip?: string;
  /** A JSON object file with its role's provided entries, written by the user's own user-data. */
  entriesFile?: string;
  /** The entries its role provides: the agent waits for the entries file to hold them all before it reports. */
  provides?: string[];
}

/** The config file's text: write it mode 0600, owner root (cloud-init write_files: permissions '0600'). */
export function agentConfigText(c: AgentConfig): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

/** The shell commands (for cloud-init runcmd) that fetch the agent from the service and run it. */
export function agentCommands(server: string): string[] {
  const url = `${server.replace(/\/+$/, '')}/v1/context/agent`;
  return [
    `python3 -c 'import sys,urllib.request; open(sys.argv[2],"wb").write(urllib.request.urlopen(sys.argv[1], timeout=60).read())' ${shellQuote(url)} ${AGENT_PATH_IN_GUEST}`,
    `chmod 0755 ${AGENT_PATH_IN_GUEST}`,
    `${AGENT_PATH_IN_GUEST} --config ${AGENT_CONFIG_PATH}`,
  ];
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
