// The client commands' help texts, one per top-level command.

import { DURATION_FORMS, TIME_FORMS } from './parse-time.ts';

const COMMON = `
every command takes
  --server URL     the vws server (else VWS_SERVER, else the one vws login stored)
  --token T        a bearer token (else VWS_TOKEN, else the one vws login stored)
  --json           print the API's JSON instead of text
durations: ${DURATION_FORMS}
times: ${TIME_FORMS}
`;

const LEASE_SPEC = `  --kind K                  best-effort, immediate, exact, urgent, deadline or periodic
  --nodes N                 how many VMs, one per node
  --cpu C                   CPUs per VM (may be fractional)
  --memory MiB              memory per VM
  --disk MiB                disk per VM (0)
  --duration D              how long each VM runs
  --start TIME              exact and periodic leases: when; deadline leases: not before
  --deadline TIME           deadline leases: done by
  --image NAME              a registered image (vws image list)
  --preemptible, --no-preemptible   may be suspended for others (default: only best-effort)
  --period D --count N | --until TIME [--accept-partial]   periodic leases: how often and how long
  --group G                 share the lease with a group you are in`;

export const HELP: Record<string, string> = {
  login: `usage: vws login --server URL --token T

Checks the server and token (GET /v1/whoami) and stores them in $VWS_CONFIG, else
~/.config/vws/config.json (mode 0600). Nothing is stored if the check fails.
${COMMON}`,
  lease: `usage: vws lease <subcommand> [options]

  create SPEC [--idempotency-key K]   ask for a lease; if refused, print what would be accepted instead
  quote SPEC                          what the scheduler would answer now, without asking
  hold SPEC --ttl D                   place a lease and hold it (at most 1d) until committed
  commit ID                           commit a held lease
  list [--status S] [--owner U] [--kind K] [--all] [--page-size N]
                                      leases you may see (ended ones only with --all or --status),
                                      fetched N (500) at a time
  show ID                             a lease with its workspaces
  migrate ID --to NODE[,NODE...]      move a running lease to other nodes while it runs (admin)
  cancel ID                           cancel a lease
  watch [ID] [--after EVENT]          follow events (with ID: that lease's, until it ends)

SPEC:
${LEASE_SPEC}
${COMMON}`,
  workspace: `usage: vws workspace list LEASE | show LEASE INDEX

The VMs of a lease, one per node, with their node, status, address and console.
${COMMON}`,
  node: `usage: vws node <subcommand>   (administrators)

  add ID --cpu C --memory MiB [--disk MiB]   add a node to the pool
  list                                       the pool and the leases on each node
  drain ID                                   no new leases on the node; those there run on
  remove ID                                  remove a drained, idle node
${COMMON}`,
  image: `usage: vws image <subcommand>

  add NAME --file PATH   register the file's size and sha256 and upload it
      [--kernel IMAGE --initrd IMAGE --cmdline TEXT]
                         a disk with no boot loader: boot it with these registered images
  list                   registered images
${COMMON}`,
  user: `usage: vws user add NAME [--admin] | list   (administrators)
${COMMON}`,
  group: `usage: vws group <subcommand>   (administrators)

  add NAME [--no-share]         a group; members see each other's leases unless --no-share
  list                          groups and their members
  add-member GROUP USER
  remove-member GROUP USER
${COMMON}`,
  token: `usage: vws token <subcommand>

  create [--user U] [--label L] [--expires D]   a new token (yours unless --user), printed once
  list [--user U]                               tokens (not their secrets)
  revoke ID                                     stop a token working
${COMMON}`,
  usage: `usage: vws usage

Core-hours and GiB-hours used per user and per group, over the leases you may see.
${COMMON}`,
};

/** For the list of commands in \`vws help\`. */
export const CLIENT_SUMMARY = `  login     check a server and token and store them
  lease     create, quote, hold, commit, list, show, cancel and watch leases
  workspace the VMs of a lease
  node      add, list, drain and remove nodes (admin)
  image     add and list images
  user      add and list users (admin)
  group     add and list groups and their members (admin)
  token     create, list and revoke tokens
  usage     core-hours and GiB-hours per user and group
`;
