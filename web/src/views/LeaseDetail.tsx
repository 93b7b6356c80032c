// One lease: its terms, its workspaces (node, addresses, state), its cluster's context, the events
// about it as they come, its owner's actions and, for administrators, live migration.

import { useEffect, useState } from 'preact/hooks';
import type { Api, Me } from '../api.ts';
import type { ServiceEvent } from '../events.ts';
import { Gantt } from '../gantt/Gantt.tsx';
import { clock, dateTime } from '../time.ts';
import type { LeaseRow } from './LeaseList.tsx';

interface Workspace { index: number; node: string | null; status: string; mac: string | null; ip: string | null; hostname: string | null; role: string | null }
interface Detail extends LeaseRow { workspaces: Workspace[]; context?: { state?: string } & Record<string, unknown>; usage: Record<string, { coreSeconds: number }> }

export function LeaseDetail({ api, me, id, refresh, events }: { api: Api; me: Me; id: string; refresh: number; events: ServiceEvent[] }) {
  const [lease, setLease] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    api<Detail>('GET', `/v1/leases/${encodeURIComponent(id)}`).then((l) => {
      setLease(l);
      setError(null);
    }, (e: Error) => setError(e.message));
  }, [id, refresh]);
  const act = (method: string, path: string, body?: unknown, done = 'done') => {
    setNote(null);
    api(method, path, body).then(() => setNote(done), (e: Error) => setNote(e.message));
  };
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!lease) return <p>Reading lease {id}…</p>;
  const own = lease.owner === me.id || me.isAdmin;
  const mine = events.filter((e) => e.data.leaseId === id);
  const window = lease.plannedStart !== null && lease.plannedEnd !== null
    ? { t0: lease.plannedStart - Math.max(600, (lease.plannedEnd - lease.plannedStart) / 4), t1: lease.plannedEnd + Math.max(600, (lease.plannedEnd - lease.plannedStart) / 4) }
    : undefined;
  return (
    <section aria-labelledby="lease-h">
      <h1 id="lease-h">Lease {lease.id}</h1>
      <dl class="facts">
        <dt>Status</dt><dd data-testid="lease-status">{lease.status}{lease.reason ? ` (${lease.reason})` : ''}</dd>
        <dt>Kind</dt><dd>{lease.kind}</dd>
        <dt>Owner</dt><dd>{lease.owner}{lease.group ? ` (group ${lease.group})` : ''}</dd>
        <dt>Planned</dt><dd>{dateTime(lease.plannedStart)} – {dateTime(lease.plannedEnd)}</dd>
        <dt>Asked for</dt><dd>{lease.spec.nodes ?? '?'} × {lease.spec.cpu ?? '?'} CPU, {lease.spec.memoryMiB ?? '?'} MiB, for {lease.spec.duration} s</dd>
        <dt>Back-end</dt><dd>{lease.backend}</dd>
        <dt>Charge</dt><dd>{lease.charge.amount.toFixed(3)} {lease.charge.unit}</dd>
        {lease.context && <><dt>Context</dt><dd>{String(lease.context.state ?? JSON.stringify(lease.context))}</dd></>}
      </dl>
      {own && (
        <div class="actions" role="group" aria-label="Actions">
          {['suspend', 'resume', 'stop'].map((a) => <button type="button" key={a} onClick={() => act('POST', `/v1/leases/${encodeURIComponent(id)}/${a}`, undefined, `${a}: asked`)}>{a}</button>)}
          <button type="button" class="danger" onClick={() => confirm(`Cancel lease ${id}?`) && act('DELETE', `/v1/leases/${encodeURIComponent(id)}`, undefined, 'cancelled')}>cancel</button>
        </div>
      )}
      {me.isAdmin && <Migrate onMigrate={(nodes) => act('POST', `/v1/leases/${encodeURIComponent(id)}/migrate`, { nodes }, 'migration asked')} count={lease.workspaces.length} />}
      {note && <p role="status">{note}</p>}
      <h2>Workspaces</h2>
      <table>
        <thead><tr><th scope="col">#</th><th scope="col">Role</th><th scope="col">Node</th><th scope="col">Status</th><th scope="col">Hostname</th><th scope="col">IP</th><th scope="col">MAC</th></tr></thead>
        <tbody>{lease.workspaces.map((w) => <tr key={w.index} data-workspace={w.index} data-node={w.node ?? ''}><td>{w.index}</td><td>{w.role ?? '—'}</td><td>{w.node ?? '—'}</td><td>{w.status}</td><td>{w.hostname ?? '—'}</td><td>{w.ip ?? '—'}</td><td>{w.mac ?? '—'}</td></tr>)}</tbody>
      </table>
      <h2>On the slot table</h2>
      <Gantt api={api} refresh={refresh} selected={id} window={window} label={`Slot table around lease ${id}`} />
      <h2>Events since this page opened</h2>
      <ol class="events" aria-live="polite">
        {mine.map((e) => <li key={e.id}><time>{clock(Number(e.data.time ?? 0))}</time> {e.type} {summary(e)}</li>)}
      </ol>
    </section>
  );
}

function summary(e: ServiceEvent): string {
  const { time: _t, leaseId: _l, ...rest } = e.data;
  return Object.entries(rest).filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

function Migrate({ onMigrate, count }: { onMigrate: (nodes: string[]) => void; count: number }) {
  const [to, setTo] = useState('');
  return (
    <form class="migrate" onSubmit={(e) => {
      e.preventDefault();
      onMigrate(to.split(/[\s,]+/).filter(Boolean));
    }}>
      <label for="migrate-to">Live-migrate to ({count} node{count === 1 ? '' : 's'}, comma-separated)</label>
      <input id="migrate-to" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
      <button type="submit">Migrate</button>
    </form>
  );
}
