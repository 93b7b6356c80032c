// vws sim's bursting options (--burst-to ec2 and what goes with it), read into the experiment's
// burst input, and the burst block of its text output.

import { readFileSync } from 'node:fs';
import { DEFAULT_BURST_POLICY } from '../core/bursting.ts';
import { MOST_SLOTS, siteConfigFromText } from '../drivers/ec2/site-config.ts';
import type { ExperimentSpec } from '../sim/experiment.ts';
import type { BurstMetrics } from '../sim/burst-metrics.ts';
import { DEFAULT_BURST_BOOT_SECONDS, DEFAULT_EC2_SLOTS } from '../sim/ec2-model.ts';
import { choiceOption, numberOption } from './options.ts';
import { UsageError } from './usage-error.ts';

export interface SimBurstOptions {
  'burst-to'?: string; 'ec2-config'?: string; 'burst-after'?: string; 'burst-boot'?: string; 'burst-slots'?: string;
}

const WITH_BURST_TO = ['ec2-config', 'burst-after', 'burst-boot', 'burst-slots'] as const;
const wholeSeconds = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** The burst input of the experiment, or undefined without --burst-to. */
export function parseBurst(v: SimBurstOptions): ExperimentSpec['burst'] {
  if (v['burst-to'] === undefined) {
    const given = WITH_BURST_TO.filter((o) => v[o] !== undefined).map((o) => `--${o}`);
    if (given.length > 0) throw new UsageError(`${given.join(', ')} ${given.length > 1 ? 'say' : 'says'} how to burst: add --burst-to ec2 (and --ec2-config FILE), or leave ${given.length > 1 ? 'them' : 'it'} out`);
    return undefined;
  }
  choiceOption('burst-to', v['burst-to'], ['ec2'] as const, 'ec2');
  const file = v['ec2-config'];
  if (file === undefined) throw new UsageError("--burst-to ec2 needs --ec2-config FILE: the site's EC2 configuration, whose instance types and prices the burst leases get (docs/ec2-backend.md)");
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--ec2-config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the site's EC2 configuration file`);
  }
  let site;
  try {
    site = siteConfigFromText(file, text);
  } catch (e) {
    throw new UsageError(`--ec2-config ${file}: ${(e as Error).message}`);
  }
  return {
    policy: { afterSeconds: numberOption('burst-after', v['burst-after'], DEFAULT_BURST_POLICY.afterSeconds, wholeSeconds, 'whole seconds >= 0') },
    ec2: {
      instanceTypes: site.instanceTypes,
      slots: numberOption('burst-slots', v['burst-slots'], site.slots ?? DEFAULT_EC2_SLOTS, (n) => Number.isInteger(n) && n >= 1 && n <= MOST_SLOTS, `a whole number of instances, 1 to ${MOST_SLOTS}`),
      bootSeconds: numberOption('burst-boot', v['burst-boot'], DEFAULT_BURST_BOOT_SECONDS, wholeSeconds, 'whole seconds >= 0'),
      ...(site.unitsPerDollar !== undefined ? { unitsPerDollar: site.unitsPerDollar } : {}),
    },
  };
}

/** The burst block as lines of the metrics table: one line per back-end. */
export function burstTable(b: BurstMetrics): string {
  const rows = Object.entries(b.backends).map(([name, f]) => {
    const cost = f.dollars === undefined ? '' : `, ${f.instanceHours!.toFixed(1)} instance-hours, $${f.dollars.toFixed(2)}${f.siteUnits === undefined ? '' : ` (${f.siteUnits.toFixed(1)} site units)`}`;
    return [`leases on ${name}`, `${f.leases} (mean wait ${f.meanWait.toFixed(0)} s, mean bounded slowdown ${f.meanBoundedSlowdown.toFixed(2)}${cost})`];
  });
  rows.unshift(['bursting', `a lease bursts unless the pool starts it within ${b.afterSeconds} s, nobody queued ahead`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
