// Ask for a lease the way the API negotiates: quote first (the earliest start, what it would
// preempt, its price, or why not and what would do instead), see it on the slot table, then commit.

import { useMemo, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { Gantt } from '../gantt/Gantt.tsx';
import { dateTime, fromLocalInput, toLocalInput } from '../time.ts';

type Kind = 'best-effort' | 'immediate' | 'exact' | 'deadline' | 'urgent';
const KINDS: Kind[] = ['best-effort', 'immediate', 'exact', 'deadline', 'urgent'];

interface Quote {
  ok: boolean;
  start?: number;
  end?: number;
  nodes?: string[];
  preempted?: Array<{ leaseId: string; how: string }>;
  price?: { amount: number; unit: string };
  reason?: string;
  message?: string;
  earliestStart?: number | null;
  alternatives?: Array<{ request: Spec; start?: number }>;
}

type Spec = Record<string, unknown>;

export function NewLease({ api, refresh }: { api: Api; refresh: number }) {
  const soon = Math.ceil(Date.now() / 1000 / 300) * 300 + 900;
  const [form, setForm] = useState({ kind: 'exact' as Kind, nodes: '1', cpu: '1', memoryMiB: '1024', minutes: '60', start: toLocalInput(soon), deadline: toLocalInput(soon + 7200), image: '', preemptible: true });
  const [quote, setQuote] = useState<Quote | null>(null);
  const [sent, setSent] = useState<Spec | null>(null);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string; id?: string } | null>(null);
  const set = (k: keyof typeof form) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const problems: string[] = [];
  const spec = useMemo(() => specOf(form, problems), [form]);

  const ask = async (s: Spec) => {
    setOutcome(null);
    setSent(s);
    try {
      setQuote(await api<Quote>('POST', '/v1/leases/quote', s));
    } catch (e) {
      setQuote({ ok: false, message: (e as Error).message });
    }
  };
  const commit = async () => {
    if (!sent) return;
    try {
      const r = await api<{ lease: { id: string; status: string } }>('POST', '/v1/leases', sent);
      setOutcome({ ok: true, text: `Lease ${r.lease.id} made: ${r.lease.status}.`, id: r.lease.id });
      setQuote(null);
    } catch (e) {
      setOutcome({ ok: false, text: `${(e as Error).message} Quote again to see what is possible now.` });
    }
  };
  const ghost = useMemo(() => (quote?.ok && quote.start !== undefined && quote.end !== undefined ? { start: quote.start, end: quote.end, nodeIds: quote.nodes ?? [] } : null), [quote]);
  const preempted = useMemo(() => new Set((quote?.preempted ?? []).map((p) => p.leaseId)), [quote]);
  const window = ghost ? { t0: Math.min(Date.now() / 1000, ghost.start) - 1800, t1: ghost.end + 1800 } : undefined;
  const needsStart = form.kind === 'exact' || form.kind === 'deadline';
  return (
    <section aria-labelledby="new-h">
      <h1 id="new-h">New lease</h1>
      <form class="lease-form" onSubmit={(e) => {
        e.preventDefault();
        if (spec) void ask(spec);
      }}>
        <label>Kind <select value={form.kind} onChange={set('kind')}>{KINDS.map((k) => <option key={k} value={k}>{k}</option>)}</select></label>
        <label>Nodes <input type="number" min="1" step="1" value={form.nodes} onInput={set('nodes')} required /></label>
        <label>CPUs per node <input type="number" min="0.01" step="0.01" value={form.cpu} onInput={set('cpu')} required /></label>
        <label>Memory per node (MiB) <input type="number" min="1" step="1" value={form.memoryMiB} onInput={set('memoryMiB')} required /></label>
        <label>Duration (minutes) <input type="number" min="1" step="1" value={form.minutes} onInput={set('minutes')} required /></label>
        {needsStart && <label>{form.kind === 'exact' ? 'Start' : 'Earliest start'} <input type="datetime-local" step="1" value={form.start} onInput={set('start')} required /></label>}
        {form.kind === 'deadline' && <label>Deadline <input type="datetime-local" value={form.deadline} onInput={set('deadline')} required /></label>}
        <label>Image (optional) <input value={form.image} onInput={set('image')} /></label>
        {form.kind === 'best-effort' && <label class="check"><input type="checkbox" checked={form.preemptible} onChange={set('preemptible')} /> preemptible</label>}
        <button type="submit" disabled={!spec}>Quote</button>
        {problems.length > 0 && <p class="error" role="alert">{problems.join(' ')}</p>}
      </form>
      {quote && <QuoteResult quote={quote} onCommit={() => void commit()} onAlternative={(s) => void ask(s)} />}
      {outcome && <p class={outcome.ok ? 'ok' : 'error'} role="status" data-testid="outcome">{outcome.text} {outcome.id && <a href={`#/leases/${encodeURIComponent(outcome.id)}`}>Open it</a>}</p>}
      <Gantt api={api} refresh={refresh} window={window} ghostIds={ghost} preempted={preempted} label="Slot table with the quote" />
    </section>
  );
}

function QuoteResult({ quote, onCommit, onAlternative }: { quote: Quote; onCommit: () => void; onAlternative: (s: Spec) => void }) {
  if (quote.ok) {
    return (
      <div class="quote ok" role="status" data-testid="quote">
        <p>Possible: from <strong>{dateTime(quote.start)}</strong> to {dateTime(quote.end)} on {quote.nodes?.join(', ')}{quote.price ? `, for ${quote.price.amount} ${quote.price.unit}` : ''}.</p>
        {quote.preempted && quote.preempted.length > 0 && <p>It would preempt {quote.preempted.map((p) => `${p.leaseId} (${p.how})`).join(', ')}: outlined in orange below.</p>}
        <button type="button" onClick={onCommit}>Commit</button>
      </div>
    );
  }
  return (
    <div class="quote refused" role="alert" data-testid="quote">
      <p>Not possible as asked{quote.reason ? ` (${quote.reason})` : ''}: {quote.message}</p>
      {quote.earliestStart != null && <p>The earliest start that would work: {dateTime(quote.earliestStart)}.</p>}
      {quote.alternatives && quote.alternatives.length > 0 && (
        <ul>{quote.alternatives.map((a, i) => <li key={i}>{describe(a.request)} <button type="button" onClick={() => onAlternative(a.request)}>Quote this</button></li>)}</ul>
      )}
    </div>
  );
}

function describe(s: Spec): string {
  const start = typeof s.start === 'number' ? ` at ${dateTime(s.start)}` : '';
  const n = (v: unknown) => (typeof v === 'number' ? String(v) : '?');
  return `${String(s.kind)}: ${n(s.nodes)} × ${n(s.cpu)} CPU for ${n(s.duration)} s${start}`;
}

/** The API's lease spec from the form, or null with what is wrong. */
function specOf(f: { kind: Kind; nodes: string; cpu: string; memoryMiB: string; minutes: string; start: string; deadline: string; image: string; preemptible: boolean }, problems: string[]): Spec | null {
  const int = (v: string, what: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) problems.push(`${what} must be a whole number of at least 1.`);
    return n;
  };
  const spec: Spec = { kind: f.kind, nodes: int(f.nodes, 'Nodes'), memoryMiB: int(f.memoryMiB, 'Memory'), duration: int(f.minutes, 'Duration') * 60 };
  const cpu = Number(f.cpu);
  if (!(cpu > 0)) problems.push('CPUs must be a number above 0.');
  spec.cpu = cpu;
  if (f.kind === 'exact' || f.kind === 'deadline') {
    const start = fromLocalInput(f.start);
    if (start === null) problems.push('Give a start.');
    spec.start = start;
  }
  if (f.kind === 'deadline') {
    const deadline = fromLocalInput(f.deadline);
    if (deadline === null) problems.push('Give a deadline.');
    spec.deadline = deadline;
  }
  if (f.image.trim()) spec.image = f.image.trim();
  if (f.kind === 'best-effort') spec.preemptible = f.preemptible;
  return problems.length ? null : spec;
}
