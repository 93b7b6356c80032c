// A node agent's host that dies (SIGKILL, nothing runs after) at one fsync of a park or an
// unpark: the one described (as `crashing` below writes it) exactly as CRASH_AT, at its CRASH_NTH
// occurrence. Run by depot-crash.test.ts, which then restarts the node on the same directories.

import { fsSyncer, type Syncer } from '../../../src/agent/durable.ts';
import { openNode, VM_ID, workloadOf } from './depot-nodes.ts';

const { DATA, DEPOT, NODE, OP, CRASH_AT, CRASH_NTH } = process.env as Record<string, string>;
let seen = 0;
const crashing = (what: string, path: string): void => {
  const described = `${what} ${path.replace(DEPOT, '<depot>').replace(DATA, '<data>')}`;
  if (described === CRASH_AT && ++seen === Number(CRASH_NTH ?? '1')) process.kill(process.pid, 'SIGKILL');
};
const syncs: Syncer = {
  file: (p) => (crashing('file', p), fsSyncer.file(p)),
  dir: (p) => (crashing('dir', p), fsSyncer.dir(p)),
};
const host = await openNode(DATA, NODE, DEPOT, syncs);
if (OP === 'park') await host.park({ id: VM_ID });
else await host.unpark({ workload: workloadOf(VM_ID, NODE) });
process.stdout.write('finished without crashing\n');
