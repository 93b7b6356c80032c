import { join } from 'node:path';
import type { LeaseRequest } from '../../../core/types.ts';
import type { DriverPlugin } from '../../plugin.ts';

/**
 * Why a pilot's node takes no lease on these terms: the batch system may take it back at any time,
 * so only what may be suspended and moved runs there (a preemptible best-effort lease), or a
 * reservation, which the scheduler places only where a pilot's end covers it.
 */
export function pilotTermsRefusal(req: LeaseRequest): string | null {
  if (req.roles) return 'virtual clusters do not run on pilot nodes: ask this site for single-image leases, or a site with a pool of its own';
  if (req.kind === 'exact' || req.kind === 'periodic') return null;
  if (req.kind === 'best-effort' && req.preemptible) return null;
  return `this site's nodes are lent by a batch system through pilot jobs and may be taken back at any time: a ${req.preemptible ? '' : 'non-preemptible '}${req.kind} lease cannot be kept there; ask for a preemptible best-effort lease, or an advance reservation (exact) within a pilot's time`;
}

export const pilotPlugin: DriverPlugin = {
  name: 'pilot',
  summary: 'VMs on nodes a Slurm cluster lends through pilot jobs that run vws agent, submitted when leases wait (--pilot-config)',
  options: ['pilot-config', 'vm-network', 'cluster-network'],
  nodesJoin: 'nodes join as the pilot jobs vws submits start (docs/pilots.md)',
  async open(ctx) {
    if (!ctx.pilotConfig) throw new RangeError("--driver pilot needs --pilot-config FILE: the site's pilot policy, its Slurm partition and how its nodes run vws agent (docs/pilots.md)");
    const { pilotConfigFromText } = await import('./pilot-config.ts');
    const { readConfigFile } = await import('../../config-fields.ts');
    const config = pilotConfigFromText(ctx.pilotConfig, readConfigFile('pilot-config', ctx.pilotConfig));
    const { AgentPool } = await import('../agent-pool.ts');
    const { DEFAULT_CLUSTER_ADDRESSES } = await import('../cluster-address-book.ts');
    const { PilotManager } = await import('./pilot-manager.ts');
    const { pilotScript } = await import('./pilot-script.ts');
    const { SlurmClient } = await import('./slurm-client.ts');
    const { mkdirSync } = await import('node:fs');
    const jobsDir = join(ctx.dataDir, 'pilots');
    mkdirSync(jobsDir, { recursive: true });
    const slurm = new SlurmClient({ cwd: jobsDir, ...(config.slurm.binDir ? { binDir: config.slurm.binDir } : {}), ...(config.slurm.conf ? { env: { ...process.env, SLURM_CONF: config.slurm.conf } } : {}) });
    const log = ctx.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    let manager: InstanceType<typeof PilotManager> | null = null;
    const clusterAddresses = ctx.clusterNetwork ? { ...DEFAULT_CLUSTER_ADDRESSES, range: ctx.clusterNetwork } : undefined;
    const pool = new AgentPool({
      store: ctx.store, dir: join(ctx.dataDir, 'agents'), network: ctx.vmNetwork ?? '10.77.0.0/24', ...(clusterAddresses ? { clusterAddresses } : {}), log, seedFor: ctx.seeds,
      pilots: { admit: (node) => manager!.admit(node), leaving: (node) => manager?.leaving(node) }, driverName: 'pilot',
    });
    manager = new PilotManager({
      config, slurm, hub: pool.hub, nodes: () => ctx.store.listNodes(), vmsOn: (node) => pool.driver.vmsOn(node).length, script: pilotScript(config), output: join(jobsDir, 'pilot-%j.out'),
      now: () => Math.floor(Date.now() / 1000), log,
    });
    const pilots = manager;
    return {
      driver: pool.driver, agents: pool.hub, pilots,
      bind: (service) => {
        pool.bind(service);
        pilots.bind(service);
      },
      // A pilot's node goes back to the batch system: what is suspended there waits in the depot the nodes share.
      config: { suspendedState: 'depot', migration: true, nodesToCome: { count: config.maxPilots * config.nodesPerPilot, cpu: config.node.cpu, memoryMiB: config.node.memoryMiB } },
      refusesTerms: pilotTermsRefusal,
    };
  },
};
