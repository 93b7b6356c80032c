// What-if replay, for administrators: the site's own logged history run again under another
// policy document (POST /v1/what-if, run off the service's thread), its figures beside what really
// happened, and both schedules on one time axis.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { slotsOfSchedule } from '../gantt/from-schedule.ts';
import { Gantt } from '../gantt/Gantt.tsx';
import { dateTime } from '../time.ts';

interface Side { metrics: Record<string, unknown>; schedule: string[] }
interface Result { real: Side; whatIf: Side; from: number; to: number; inputs: number }

/** The figures compared, with how to read them. */
const FIGURES: Array<[string, string, (v: number) => string]> = [
  ['leases', 'leases', String],
  ['completed', 'completed', String],
  ['rejected', 'rejected', String],
  ['meanWait', 'mean wait of best-effort leases', (v) => `${Math.round(v)} s`],
  ['meanBoundedSlowdown', 'mean bounded slowdown', (v) => v.toFixed(2)],
  ['utilization', 'utilization', (v) => `${(v * 100).toFixed(1)} %`],
  ['allBestEffort', 'all best-effort work done at', (v) => dateTime(v)],
  ['suspensions', 'suspensions', String],
  ['migrations', 'migrations', String],
  ['preemptions', 'preemptions', String],
];

export function WhatIf({ api }: { api: Api }) {
  const [document, setDocument] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<{ terms: unknown }>('GET', '/v1/terms').then((t) => setDocument(JSON.stringify(t.terms, null, 2)), (e: Error) => setError(e.message));
  }, []);
  const run = async () => {
    setError(null);
    let terms: unknown;
    try {
      terms = JSON.parse(document);
    } catch (e) {
      setError(`The policy document is not JSON: ${(e as Error).message}. Fix it and run again.`);
      return;
    }
    setBusy(true);
    try {
      setResult(await api<Result>('POST', '/v1/what-if', { terms }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="whatif-h">
      <h1 id="whatif-h">What if?</h1>
      <p>The site's history (every request and node change it logged) run again under the policy document below, beside what really happened.</p>
      <form onSubmit={(e) => {
        e.preventDefault();
        void run();
      }}>
        <label for="policy">Policy document (the site's terms, JSON)</label>
        <textarea id="policy" rows={14} cols={90} spellcheck={false} value={document} onInput={(e) => setDocument((e.target as HTMLTextAreaElement).value)} />
        <div><button type="submit" disabled={busy}>{busy ? 'Running…' : 'Run the history under it'}</button></div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && <Compared result={result} />}
    </section>
  );
}

function Compared({ result }: { result: Result }) {
  const now = result.to;
  const real = useMemo(() => slotsOfSchedule(result.real.schedule, now), [result]);
  const other = useMemo(() => slotsOfSchedule(result.whatIf.schedule, now), [result]);
  const [view, setView] = useState(() => ({ t0: Math.min(real.from, other.from), t1: Math.max(real.to, other.to, real.from + 3600) }));
  const num = (side: Side, key: string) => side.metrics[key] as number | undefined;
  return (
    <>
      <h2>Figures</h2>
      <p>{result.inputs} inputs logged from {dateTime(result.from)} to {dateTime(result.to)}.</p>
      <table data-testid="what-if-figures">
        <thead><tr><th scope="col">figure</th><th scope="col">as it ran</th><th scope="col">under this document</th></tr></thead>
        <tbody>
          {FIGURES.filter(([key]) => num(result.real, key) !== undefined).map(([key, label, show]) => (
            <tr key={key}><th scope="row">{label}</th><td>{show(num(result.real, key)!)}</td><td>{show(num(result.whatIf, key) ?? Number.NaN)}</td></tr>
          ))}
        </tbody>
      </table>
      <h2>As it ran</h2>
      <Gantt slots={real} view={view} onView={setView} label="The schedule as it ran" />
      <h2>Under this document</h2>
      <Gantt slots={other} view={view} onView={setView} label="The schedule under the policy document" />
    </>
  );
}
