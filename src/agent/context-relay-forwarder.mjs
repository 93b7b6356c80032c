#!/usr/bin/env node
// Inside a network namespace (an agent run with --netns, as tests run it): listens on the context
// relay's port there and pipes each TCP connection to the relay's Unix socket on the host, where
// the agent (outside the namespace) listens. A plain file with no imports beyond Node's: it is run
// as it is, by `ip netns exec`, from src/ or dist/ alike.
//
//   node context-relay-forwarder.mjs --port 8775 --socket DIR/context-relay.sock --pid-file DIR/context-relay-forwarder.pid
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? process.argv[i + 1] : undefined;
  if (!value) {
    process.stderr.write(`context-relay-forwarder: --${name} is missing (usage: --port PORT --socket PATH --pid-file PATH)\n`);
    process.exit(2);
  }
  return value;
}

const port = Number(option('port'));
const socket = option('socket');
const pidFile = option('pid-file');

const server = createServer((guest) => {
  const relay = connect(socket);
  // Either side failing ends both: a half-open pair would hold the guest's connection. An orderly
  // end travels through the pipes, after what was written before it.
  const end = () => {
    guest.destroy();
    relay.destroy();
  };
  guest.on('error', end);
  relay.on('error', end);
  guest.pipe(relay);
  relay.pipe(guest);
});
server.on('error', (e) => {
  process.stderr.write(`context-relay-forwarder: cannot listen on 0.0.0.0:${port}: ${e.message}\n`);
  process.exit(1);
});
// The pid file is written once it listens: the agent waits for it as the sign that it serves.
server.listen(port, '0.0.0.0', () => writeFileSync(pidFile, `${process.pid}\n`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
