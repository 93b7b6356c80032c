// Runs a what-if replay off the service's thread: a long log takes seconds to replay twice, and
// the service goes on answering everyone meanwhile. Given the log and the document, posts back the
// result (plain data) or the refusal.

import { parentPort, workerData } from 'node:worker_threads';
import { ReplayRefused, type SiteLog } from '../control/replay/site-log.ts';
import { whatIf } from '../control/replay/what-if.ts';
import type { Terms } from '../core/terms.ts';

const { log, terms } = workerData as { log: SiteLog; terms: Terms | null };
try {
  parentPort!.postMessage({ ok: true, result: whatIf(log, terms) });
} catch (e) {
  parentPort!.postMessage({ ok: false, refused: e instanceof ReplayRefused, message: (e as Error).message });
}
