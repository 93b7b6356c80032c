// The caller's leases (all of them, for an administrator), read again whenever an event arrives.

import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { dateTime } from '../time.ts';

export interface LeaseRow {
  id: string;
  owner: string;
  group: string | null;
  kind: string;
  status: string;
  reason: string | null;
  plannedStart: number | null;
  plannedEnd: number | null;
  nodes: string[];
  charge: { amount: number; unit: string };
  backend: string;
  spec: Record<string, unknown> & { nodes?: number; cpu?: number; memoryMiB?: number; duration: number };
}

const STATUSES = ['', 'pending', 'scheduled', 'held', 'running', 'suspended', 'renegotiating', 'done', 'cancelled', 'rejected', 'failed'];

export function LeaseList({ api, refresh, onOpen }: { api: Api; refresh: number; onOpen: (id: string) => void }) {
  const [status, setStatus] = useState('');
  const [leases, setLeases] = useState<LeaseRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ leases: LeaseRow[] }>('GET', `/v1/leases?limit=1000${status ? `&status=${status}` : ''}`).then((r) => {
      setLeases(r.leases);
      setError(null);
    }, (e: Error) => setError(e.message));
  }, [refresh, status]);
  return (
    <section aria-labelledby="leases-h">
      <h1 id="leases-h">Leases</h1>
      <label>Status <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
        {STATUSES.map((s) => <option key={s} value={s}>{s || 'any'}</option>)}
      </select></label>
      {error && <p class="error" role="alert">{error}</p>}
      {leases && leases.length === 0 && <p>No leases{status ? ` ${status}` : ''} yet. <a href="#/new">Ask for one.</a></p>}
      {leases && leases.length > 0 && (
        <table class="leases">
          <thead><tr><th scope="col">Lease</th><th scope="col">Owner</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Nodes</th><th scope="col">Start</th><th scope="col">End</th><th scope="col">Charge</th></tr></thead>
          <tbody>
            {leases.map((l) => (
              <tr key={l.id} data-lease={l.id} data-status={l.status}>
                <td><a href={`#/leases/${encodeURIComponent(l.id)}`} onClick={(e) => {
                  e.preventDefault();
                  onOpen(l.id);
                }}>{l.id}</a></td>
                <td>{l.owner}</td>
                <td>{l.kind}</td>
                <td class={`status ${l.status}`}>{l.status}{l.reason ? ` (${l.reason})` : ''}</td>
                <td>{l.nodes.length ? l.nodes.join(', ') : '—'}</td>
                <td>{dateTime(l.plannedStart)}</td>
                <td>{dateTime(l.plannedEnd)}</td>
                <td>{l.charge.amount.toFixed(2)} {l.charge.unit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
