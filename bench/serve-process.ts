// A `vws serve` in a child process for the benchmarks: `nodes` simulated nodes of 16 CPUs and
// 64 GiB, an admin token given, resolved once /v1/health answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../test/support/free-port.ts';

const root = new URL('..', import.meta.url).pathname;

export async function startServe(dataDir: string, nodes: number, token: string, store?: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const args = ['bin/vws.js', 'serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--nodes', String(nodes), '--node-cpu', '16', '--node-memory', '65536', ...(store ? ['--store', store] : [])];
  const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: token }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return { proc, url };
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('vws serve did not come up in 120 s');
}
