// A process that starts a Slurm of its own with a job running, says where on its standard output,
// and waits to be killed: harness.test.ts SIGKILLs it, which runs no exit handler, and checks that
// the harness's watchdog ends the cluster and removes its directory all the same.

import { startSlurm } from '../support/slurm.ts';
import { waitFor } from '../support/wait.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const slurm = await startSlurm({ nodes: 1 });
const started = join(slurm.jobsDir, 'abandoned.started');
const id = await slurm.sbatch(`#!/bin/bash\ntouch ${started}\nwhile :; do sleep 1000; done\n`, ['--output=/dev/null']);
await slurm.waitForState(id, ['RUNNING']);
await waitFor('the abandoned job\'s script to start', () => existsSync(started), { everyMs: 50 });
process.stdout.write(`${JSON.stringify({ dir: slurm.dir, daemons: slurm.daemons() })}\n`);
setInterval(() => undefined, 60_000);
