// The client commands' lines and help: each calls the vws server named by the global --server
// (else VWS_SERVER, else vws login's file). Their code is loaded when one runs.

import { type Command as Cli, Option } from 'commander';
import type { Leaf } from '../values.ts';
import type { Runner } from '../values.ts';
import { Args } from './args.ts';
import type { Command } from './command.ts';
import { KINDS } from './lease-spec.ts';
import { LEASE_STATUSES } from './lease-text.ts';
import { ROLE_FLAG_HELP } from './role-flag.ts';
import { DURATION_FORMS, TIME_FORMS } from './parse-time.ts';

/** Who sees an image (the API's ImageVisibility). */
const VISIBILITIES = ['private', 'group', 'public'];

/** A repeatable option's values, in order. */
const repeated = (value: string, before: string[] | undefined): string[] => [...(before ?? []), value];

const FORMS = `\ndurations: ${DURATION_FORMS}\ntimes: ${TIME_FORMS}`;

/** A client command's code, given its parsed line as Args. */
const client = (load: () => Promise<Command>) => async (): Promise<Runner> => {
  const run = await load();
  return (i) => run(new Args(i.path, i.values, i.positionals));
};

const lease = (name: string) => client(async () => (await import('./lease-commands.ts')).LEASE_COMMANDS[name]);

/** The options that describe a lease: create, quote and hold take them. */
function specOptions(cmd: Cli): Cli {
  return cmd
    .addOption(new Option('--kind <K>', 'the kind of lease (best-effort)').choices(KINDS))
    .addOption(new Option('--nodes <N>', 'how many VMs, one per node'))
    .addOption(new Option('--cpu <C>', 'CPUs per VM (may be fractional)'))
    .addOption(new Option('--memory <MiB>', 'memory per VM'))
    .addOption(new Option('--disk <MiB>', 'disk per VM (0)'))
    .addOption(new Option('--bandwidth <MBIT>', 'network bandwidth per VM, Mbit/s each way: shaped on its node, and counted where nodes lease bandwidth'))
    .addOption(new Option('--duration <D>', 'how long each VM runs'))
    .addOption(new Option('--start <TIME>', 'exact and periodic leases: when; deadline leases: not before'))
    .addOption(new Option('--deadline <TIME>', 'deadline leases: done by'))
    .addOption(new Option('--image <NAME>', 'a registered image (vws image list)'))
    .addOption(new Option('--preemptible', 'may be suspended for others (default: only best-effort leases)'))
    .addOption(new Option('--no-preemptible', 'may not be'))
    .addOption(new Option('--period <D>', 'periodic leases: how often, with --count or --until'))
    .addOption(new Option('--count <N>', 'periodic leases: how many times'))
    .addOption(new Option('--until <TIME>', 'periodic leases: until when'))
    .addOption(new Option('--accept-partial', 'periodic leases: accept even if some occurrences do not fit'))
    .addOption(new Option('--group <G>', "share the lease with a group you are in, and charge it to the group's account"))
    .addOption(new Option('--backend <NAME>', 'run on this back-end (vws backends); default: the site\'s policy chooses'))
    .addOption(new Option('-f, --file <FILE>', 'the lease as a YAML or JSON file with the API\'s fields (see docs/api.md); options given too replace its fields'))
    .addOption(new Option('--role <SPEC>', ROLE_FLAG_HELP).argParser(repeated))
    .addOption(new Option('--user-data <FILE>', 'cloud-init user-data for every VM (#cloud-config or a script, at most 16 KiB)'))
    .addOption(new Option('--ssh-key <FILE>', 'an OpenSSH public key file for the VMs\' authorized_keys, repeatable').argParser(repeated))
    .addHelpText('after', `${FORMS}\nroles: instead of --nodes/--cpu/--memory, e.g.\n  --role 'head:count=1,cpu=1,memory=512,networks=public+private,provides=nfs-export'\n  --role 'worker:count=2,cpu=1,memory=512,requires=head.ip+head.nfs-export'`);
}

function addLease(program: Cli, leaf: Leaf): void {
  const group = program.command('lease').description('create, quote, hold, commit, list, show, stop, suspend, resume, cancel, change and watch leases');
  specOptions(leaf(group, 'create', 'ask for a lease; if refused, print what would be accepted instead', lease('create')))
    .addOption(new Option('--idempotency-key <K>', 'a retry with the same key returns the lease the first try made'));
  specOptions(leaf(group, 'quote', 'what the scheduler would answer now, without asking', lease('quote')));
  specOptions(leaf(group, 'hold', 'place an exact, deadline or periodic lease and hold it until committed', lease('hold')))
    .addOption(new Option('--ttl <D>', 'how long the hold lasts (at most 1d)'));
  leaf(group, 'commit <ID>', 'commit a held lease', lease('commit'));
  leaf(group, 'list', 'leases you may see (ended ones only with --all or --status)', lease('list'))
    .addOption(new Option('--status <S>', 'only leases in this status').choices(LEASE_STATUSES))
    .addOption(new Option('--owner <U>', "only this user's leases"))
    .addOption(new Option('--kind <K>', 'only leases of this kind').choices(KINDS))
    .addOption(new Option('--all', 'ended leases too'))
    .addOption(new Option('--page-size <N>', 'fetch N leases a request (500, at most 1000)'));
  leaf(group, 'show <ID>', 'a lease with its workspaces', lease('show'));
  leaf(group, 'stop <ID>', 'end a running lease now: its work is done (owner)', lease('stop'));
  leaf(group, 'suspend <ID>', 'suspend a running best-effort lease until you resume it (owner)', lease('suspend'));
  leaf(group, 'resume <ID>', 'resume a lease you suspended (owner)', lease('resume'));
  leaf(group, 'migrate <ID>', 'move a running lease to other nodes while it runs (admin)', lease('migrate'))
    .addOption(new Option('--to <NODES>', 'the nodes to move to, NODE[,NODE...]: one per node it runs on'));
  leaf(group, 'cancel <ID>', 'cancel a lease', lease('cancel'));
  addChanges(group, leaf);
  leaf(group, 'watch [ID]', "follow events (with ID: that lease's, until it ends)", client(async () => (await import('./watch.ts')).WATCH_COMMAND))
    .addOption(new Option('--after <EVENT>', 'start after this event number'));
}

/** Renegotiating a live lease: each quotes with --quote, else makes the change whole or not at all. */
function addChanges(group: Cli, leaf: Leaf): void {
  const ch = (name: string) => client(async () => (await import('./change-commands.ts')).CHANGE_COMMANDS[name]);
  const quoteOnly = () => new Option('--quote', 'only say what the change would do; change nothing');
  leaf(group, 'change <ID>', 'change a live lease: its duration, start, nodes, CPUs or memory, or its back-end while it renegotiates (owner)', ch('change'))
    .addOption(new Option('--duration <D>', 'the whole run, as when the lease was asked for'))
    .addOption(new Option('--start <TIME>', 'a scheduled exact lease\'s new start'))
    .addOption(new Option('--nodes <N>', 'how many VMs (a lease not yet begun)'))
    .addOption(new Option('--cpu <C>', 'CPUs per VM (a lease not yet begun)'))
    .addOption(new Option('--memory <MiB>', 'memory per VM (a lease not yet begun)'))
    .addOption(new Option('--bandwidth <MBIT>', 'network bandwidth per VM, Mbit/s (a lease not yet begun)'))
    .addOption(new Option('--role <ROLE=COUNT>', "a cluster's members of one role (a cluster not yet begun), repeatable").argParser(repeated))
    .addOption(new Option('--backend <NAME>', 'move it to another back-end (a lease renegotiating a broken promise, taking the offer made there)'))
    .addOption(quoteOnly()).addHelpText('after', FORMS);
  leaf(group, 'extend <ID>', 'run a live lease longer (owner)', ch('extend'))
    .addOption(new Option('--by <D>', 'how much longer')).addOption(quoteOnly()).addHelpText('after', FORMS);
  leaf(group, 'shorten <ID>', 'run a live lease less long (owner)', ch('shorten'))
    .addOption(new Option('--by <D>', 'how much shorter')).addOption(quoteOnly()).addHelpText('after', FORMS);
  leaf(group, 'resize <ID>', 'give a lease not yet begun more or fewer nodes, CPUs or memory (owner)', ch('resize'))
    .addOption(new Option('--nodes <N>', 'how many VMs'))
    .addOption(new Option('--cpu <C>', 'CPUs per VM'))
    .addOption(new Option('--memory <MiB>', 'memory per VM'))
    .addOption(new Option('--bandwidth <MBIT>', 'network bandwidth per VM, Mbit/s'))
    .addOption(new Option('--role <ROLE=COUNT>', "a cluster's members of one role, e.g. worker=4; repeatable").argParser(repeated))
    .addOption(quoteOnly());
  leaf(group, 'move <ID>', 'move a scheduled exact lease to another start (owner)', ch('move'))
    .addOption(new Option('--start <TIME>', 'the new start')).addOption(quoteOnly()).addHelpText('after', FORMS);
}

function addPool(program: Cli, leaf: Leaf): void {
  const workspace = program.command('workspace').description('the VMs of a lease, one per node, with their node, status, address and console');
  const ws = (name: string) => client(async () => (await import('./workspace-commands.ts')).WORKSPACE_COMMANDS[name]);
  leaf(workspace, 'list <LEASE>', "a lease's workspaces", ws('list'));
  leaf(workspace, 'show <LEASE> <INDEX>', 'one of them in full', ws('show'));

  const node = program.command('node').description('add, list, drain and remove nodes (admin)');
  const nd = (name: string) => client(async () => (await import('./node-commands.ts')).NODE_COMMANDS[name]);
  leaf(node, 'add <ID>', 'add a node to the pool', nd('add'))
    .addOption(new Option('--cpu <C>', 'its CPUs'))
    .addOption(new Option('--memory <MiB>', 'its memory'))
    .addOption(new Option('--disk <MiB>', 'its disk (0)'))
    .addOption(new Option('--bandwidth <MBIT>', 'the network bandwidth it leases to VMs, Mbit/s (none)'));
  leaf(node, 'list', 'the pool and the leases on each node', nd('list'));
  leaf(node, 'drain <ID>', 'no new leases on the node; those there run on', nd('drain'))
    .addOption(new Option('--evacuate', 'also move the reservations planned there that have not begun to other nodes (those that fit nowhere else renegotiate)'));
  leaf(node, 'remove <ID>', 'remove a drained, idle node', nd('remove'));

  const pilot = program.command('pilot').description("the pilot jobs that lend a batch system's nodes (admin)");
  const pl = (name: string) => client(async () => (await import('./pilot-commands.ts')).PILOT_COMMANDS[name]);
  leaf(pilot, 'list', 'the pilot jobs, their state and end, and their nodes in the pool', pl('list'));
  leaf(pilot, 'drain <JOB>', 'no new leases on the pilot; it goes back to the batch system once idle', pl('drain'));
  leaf(pilot, 'cancel <JOB>', 'the pilot goes now: its VMs are suspended and resume on another pilot', pl('cancel'));

  const image = program.command('image').description('add, import, list, show, describe and share images (the appliance catalogue)');
  const im = (name: string) => client(async () => (await import('./image-commands.ts')).IMAGE_COMMANDS[name]);
  const visibility = (what: string) => new Option('--visibility <V>', what).choices(VISIBILITIES);
  const group = () => new Option('--group <G>', 'the group that sees it: one you are in (default: yours, if you are in one)');
  describeOptions(leaf(image, 'add <NAME>', "register the file's size, sha256 and description and upload it", im('add'))
    .addOption(new Option('--file <PATH>', 'the image content (qcow2 or raw; vws image import converts others)'))
    .addOption(new Option('--kernel <IMAGE>', 'a disk with no boot loader: boot this registered kernel image ...'))
    .addOption(new Option('--initrd <IMAGE>', '... with this registered initrd image ...'))
    .addOption(new Option('--cmdline <TEXT>', '... and this kernel command line'))
    .addOption(new Option('--format <F>', 'the content\'s format, checked by the server (default: what it finds)').choices(['qcow2', 'raw']))
    .addOption(visibility('who sees and uses it: you alone (private, the default), your group, or everyone (public: administrators only)'))
    .addOption(group()));
  describeOptions(leaf(image, 'import <FILE>', 'convert a vmdk or vdi image to qcow2 (qcow2 and raw are kept as they are), then add it with its description', client(async () => (await import('./image-import.ts')).IMPORT_COMMAND))
    .addOption(new Option('--name <NAME>', 'what to register it as'))
    .addOption(new Option('--format <F>', 'what the file should be: refused if qemu-img finds another format').choices(['vmdk', 'vdi', 'raw', 'qcow2']))
    .addOption(visibility('who sees and uses it: private (the default), group, or public (administrators only)'))
    .addOption(group()));
  leaf(image, 'list', 'the catalogue: the images you may see, narrowed by the filters given', im('list'))
    .addOption(new Option('--os <FAMILY>', 'only this OS family (debian, ubuntu, ...)'))
    .addOption(new Option('--release <R>', 'only this OS release'))
    .addOption(new Option('--provides <NAME>', 'only images that provide this (ssh, nfs-server, ...)'))
    .addOption(new Option('--requires <NAME>', 'only images that require this (cloud-init, ...)'))
    .addOption(new Option('--format <F>', 'only images stored in this format').choices(['qcow2', 'raw']))
    .addOption(new Option('--owner <USER>', "only this user's images"))
    .addOption(new Option('--maintainer <TEXT>', 'only images whose maintainer contains this'))
    .addOption(new Option('--cpu <C>', 'only images whose minimum a VM of C CPUs meets'))
    .addOption(new Option('--memory <MiB>', 'only images whose minimum a VM of this memory meets'));
  leaf(image, 'show <NAME>', 'one image with its description', im('show'));
  describeOptions(leaf(image, 'describe <NAME>', 'change the fields of its description given here, keeping the others (owner or admin)', im('describe'))
    .addOption(new Option('--format <F>', 'the stored format (an uploaded image\'s cannot change)').choices(['qcow2', 'raw']))
    .addOption(new Option('--clear', 'start from no description (an uploaded image keeps its format)')));
  leaf(image, 'share <NAME>', 'change who sees and uses an image of yours (owner or admin)', im('share'))
    .addOption(visibility('private, group, or public (administrators only)'))
    .addOption(group());
  addTrust(program, image, leaf);
}

/** The options of an image's description: image add, import and describe take them. */
function describeOptions(cmd: Cli): Cli {
  return cmd
    .addOption(new Option('--image-version <V>', 'its version, e.g. 12.7-20261201'))
    .addOption(new Option('--os <FAMILY>', 'its OS family, e.g. debian'))
    .addOption(new Option('--os-release <R>', 'its OS release, e.g. 12'))
    .addOption(new Option('--maintainer <TEXT>', 'who maintains it'))
    .addOption(new Option('--summary <TEXT>', 'what it is for'))
    .addOption(new Option('--min-cpu <C>', 'the least CPUs a VM booting it needs (leases asking for fewer are refused)'))
    .addOption(new Option('--min-memory <MiB>', 'the least memory a VM booting it needs'))
    .addOption(new Option('--min-disk <MiB>', 'the disk its guest needs to work in'))
    .addOption(new Option('--provides <NAMES>', 'what it provides for contextualization, comma-separated or repeated (ssh,nfs-server)').argParser(repeated))
    .addOption(new Option('--requires <NAMES>', 'what it requires, comma-separated or repeated (cloud-init,nocloud)').argParser(repeated));
}

/** Signed statements about images and the site's trust in their signers (docs/trust.md). */
function addTrust(program: Cli, image: Cli, leaf: Leaf): void {
  const st = (name: string) => client(async () => (await import('./trust-commands.ts')).TRUST_IMAGE_COMMANDS[name]);
  leaf(image, 'keygen', 'make an Ed25519 key pair for signing image statements', st('keygen'))
    .addOption(new Option('--out <DIR>', 'where to write signing.key.pem and signing.pub.pem'));
  leaf(image, 'sign <FILE>', 'sign a statement about an image file (its sha256 and size, and claims)', st('sign'))
    .addOption(new Option('--key <KEY>', 'the private key (PEM, from vws image keygen)'))
    .addOption(new Option('--name <N>', 'the image the statement is about'))
    .addOption(new Option('--description <TEXT>', 'what the image is'))
    .addOption(new Option('--claim <K=V>', 'a claim, e.g. patched=2026-12-01; repeatable').argParser(repeated))
    .addOption(new Option('--claim-expires <K=DATE>', 'when a claim stops being true; repeatable').argParser(repeated))
    .addOption(new Option('--expires <DATE>', 'when the whole statement stops being true'))
    .addOption(new Option('--out <FILE>', 'write the signed statement here (else stdout)'))
    .addOption(new Option('--upload', 'attach it to the registered image NAME on the server (its owner or an administrator)'));
  leaf(image, 'verify <FILE|NAME> [STATEMENT]', 'with FILE STATEMENT --signer PUB: check the file against the statement here; with NAME: ask the server whether its policy accepts the image, and why', st('verify'))
    .addOption(new Option('--signer <PUB>', "the signer's public key (PEM) you trust"));
  const trust = program.command('trust').description("the signers this site trusts for images, and what images need to run (admin)");
  const tr = (name: string) => client(async () => (await import('./trust-commands.ts')).TRUST_COMMANDS[name]);
  leaf(trust, 'add-signer <NAME>', 'trust a signer\'s public key', tr('add-signer'))
    .addOption(new Option('--key <PUB>', 'its public key (PEM)'))
    .addOption(new Option('--claims <A,B>', 'only for these claims (default: every claim)'));
  leaf(trust, 'list', 'the trusted signers and the policy', tr('list'));
  leaf(trust, 'remove <NAME>', 'stop trusting a signer', tr('remove'));
  leaf(trust, 'policy', 'set what images need to run', tr('policy'))
    .addOption(new Option('--require <R>', 'none, signed, or signed-unless-admin').choices(['none', 'signed', 'signed-unless-admin']))
    .addOption(new Option('--claim <NAME[:DAYS]>', 'a claim images must carry, its date no older than DAYS; repeatable').argParser(repeated));
}

function addAccounts(program: Cli, leaf: Leaf): void {
  const account = (table: 'USER_COMMANDS' | 'GROUP_COMMANDS' | 'TOKEN_COMMANDS', name: string) =>
    client(async () => (await import('./account-commands.ts'))[table][name]);
  const user = program.command('user').description('add and list users (admin)');
  leaf(user, 'add <NAME>', 'add a user', account('USER_COMMANDS', 'add')).addOption(new Option('--admin', 'an administrator'));
  leaf(user, 'list', 'the users', account('USER_COMMANDS', 'list'));

  const group = program.command('group').description('add and list groups and their members (admin)');
  leaf(group, 'add <NAME>', "a group; members see each other's leases unless --no-share", account('GROUP_COMMANDS', 'add'))
    .addOption(new Option('--no-share', 'members see only their own leases'));
  leaf(group, 'list', 'groups and their members', account('GROUP_COMMANDS', 'list'));
  leaf(group, 'add-member <GROUP> <USER>', 'put a user in a group', account('GROUP_COMMANDS', 'add-member'));
  leaf(group, 'remove-member <GROUP> <USER>', 'take a user out of a group', account('GROUP_COMMANDS', 'remove-member'));

  const token = program.command('token').description('create, list and revoke tokens');
  leaf(token, 'create', 'a new token (yours unless --user), printed once', account('TOKEN_COMMANDS', 'create'))
    .addOption(new Option('--user <U>', "another user's (admin)"))
    .addOption(new Option('--label <L>', 'what it is for'))
    .addOption(new Option('--expires <D>', 'it stops working after this long (never)'))
    .addHelpText('after', FORMS);
  leaf(token, 'list', 'tokens (not their secrets)', account('TOKEN_COMMANDS', 'list')).addOption(new Option('--user <U>', "another user's (admin)"));
  leaf(token, 'revoke <ID>', 'stop a token working', account('TOKEN_COMMANDS', 'revoke'));
}

export function addClientCommands(program: Cli, leaf: Leaf): void {
  leaf(program, 'login', 'check a server and token (--server, --token) and store them', client(async () => (await import('./login.ts')).LOGIN_COMMAND))
    .addHelpText('after', '\nStores them in $VWS_CONFIG, else ~/.config/vws/config.json (mode 0600); nothing is stored if the check fails.');
  addLease(program, leaf);
  addPool(program, leaf);
  addAccounts(program, leaf);
  leaf(program, 'usage', 'core-hours, GiB-hours and charges per user and group, over the leases you may see', client(async () => (await import('./usage-command.ts')).USAGE_COMMAND));
  const accounts = program.command('account').description("groups' accounts: allocations per period, statements and usage records (docs/terms.md)");
  const statements = async () => (await import('./statement-commands.ts')).STATEMENT_COMMANDS;
  leaf(accounts, 'list', 'the accounts you may see, with what is charged and left this period', client(async () => (await statements()).list));
  leaf(accounts, 'statement <GROUP>', "a group's charges per user and its usage records for a period", client(async () => (await statements()).statement))
    .addOption(new Option('--period <P>', 'a month (2026-12), a quarter (2026-Q4) or a year (2026); default: the current one'))
    .addOption(new Option('--csv', 'the usage records as CSV'));
  leaf(accounts, 'set <GROUP>', "grant a group an allocation per period (admin; a change of the site's terms)", client(async () => (await statements()).set))
    .addOption(new Option('--allocation <N>', 'units granted each period'))
    .addOption(new Option('--period <P>', 'month | quarter | year (month)'));
  const terms = program.command('terms').description("the site's terms: kinds offered and to whom, limits, prices, scheduling (docs/terms.md)");
  leaf(terms, 'show', 'the terms in force, and the kinds you may ask for', client(async () => (await import('./terms-commands.ts')).TERMS_COMMANDS.show));
  leaf(terms, 'set <FILE>', 'put a terms document in force from now on (admin)', client(async () => (await import('./terms-commands.ts')).TERMS_COMMANDS.set));
  leaf(program, 'backends', 'where leases may run (the pool, and a cloud they burst to), at what price, and whether you may run there', client(async () => (await import('./usage-command.ts')).BACKENDS_COMMAND));
}
