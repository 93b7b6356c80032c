// POST /v1/what-if (administrators): the site's own logged history run again under another policy
// document, beside what really happened (control/replay). One at a time, in a worker thread: the
// replay of a long log takes seconds and memory, and must not stop the service for anyone else.

import { Worker } from 'node:worker_threads';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { siteLogOf } from '../../control/replay/read-site-log.ts';
import { readTerms } from '../../core/terms-document.ts';
import type { Terms } from '../../core/terms.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, invalidRequest } from '../errors.ts';
import { role } from '../route-roles.ts';

/** A replay that runs longer than this is stopped: the site's log is too long to replay here. */
const LONGEST_MS = 10 * 60_000;

const WhatIfBody = Type.Object({
  terms: Type.Union([Type.Object({}, { additionalProperties: true, description: 'a terms document (docs/terms.md)' }), Type.Null()], { description: 'the policy document to run the history under; null: the site\'s own terms' }),
}, { additionalProperties: false });

/** Run from the TypeScript sources (the tests, under tsx) rather than the build in dist/. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
/** The worker's module, beside this one's folder: .ts under tsx, .js once built. */
const WORKER = new URL(`../what-if-worker${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url);

function startWorker(workerData: unknown): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER, { workerData });
  // Worker threads do not inherit tsx's loader: the worker registers it before it loads its code.
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER.href)}); })`, { eval: true, workerData });
}

type Outcome = { ok: true; result: unknown } | { ok: false; refused: boolean; message: string };

export function registerWhatIfRoutes(app: FastifyInstance, ctx: ApiContext): void {
  let running: { since: number; by: string } | null = null;
  app.post('/v1/what-if', { ...role('admin'), schema: { body: WhatIfBody, tags: ['nodes'], summary: "The site's logged history run under another terms document, beside what really happened: figures and both schedules (administrators; one at a time)" } }, async (req) => {
    const { terms: doc } = req.body as { terms: unknown };
    let terms: Terms | null = null;
    if (doc !== null) {
      const read = readTerms(doc);
      if (!read.ok) throw invalidRequest(`body.terms${read.path.slice('terms'.length)}`, read.message);
      terms = read.terms;
    }
    if (running) throw new ApiError('wrong-state', `a what-if replay asked by ${running.by} has been running since ${running.since}: ask again when it is done`);
    running = { since: ctx.now(), by: req.caller.user.id };
    try {
      const log = await siteLogOf(ctx.store);
      const out = await inWorker({ log, terms });
      if (!out.ok) throw out.refused ? new ApiError('unsupported', out.message) : new Error(`the what-if replay failed: ${out.message}`);
      return out.result;
    } finally {
      running = null;
    }
  });
}

function inWorker(data: unknown): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(data);
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the what-if replay ran longer than ${LONGEST_MS / 60_000} minutes and was stopped; replay the log with vws sim --replay instead`));
    }, LONGEST_MS);
    worker.once('message', (m: Outcome) => {
      clearTimeout(timer);
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`the what-if replay's worker exited with code ${code}`));
    });
  });
}
