// The pool, for administrators: each node's capacity, state, leases, pilot job and departure; drain
// one (no new leases; those there run on) or remove a drained (draining), idle one.

import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { dateTime } from '../time.ts';

interface NodeRow { id: string; cpu: number; memoryMiB: number; status: string; leases: string[]; departsAt: number | null; pilot: string | null; backend?: string }

export function Nodes({ api, refresh }: { api: Api; refresh: number }) {
  const [nodes, setNodes] = useState<NodeRow[] | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [again, setAgain] = useState(0);
  useEffect(() => {
    api<{ nodes: NodeRow[] }>('GET', '/v1/nodes').then((r) => setNodes(r.nodes), (e: Error) => setNote(e.message));
  }, [refresh, again]);
  const act = (method: string, path: string, done: string) => {
    api(method, path).then(() => {
      setNote(done);
      setAgain((n) => n + 1);
    }, (e: Error) => setNote(e.message));
  };
  return (
    <section aria-labelledby="nodes-h">
      <h1 id="nodes-h">Nodes</h1>
      {note && <p role="status">{note}</p>}
      {nodes && (
        <table>
          <thead><tr><th scope="col">Node</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Status</th><th scope="col">Leases</th><th scope="col">Pilot job</th><th scope="col">Departs</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node={n.id}>
                <td>{n.id}</td><td>{n.cpu}</td><td>{n.memoryMiB} MiB</td><td>{n.status}</td>
                <td>{n.leases.length ? n.leases.map((l) => <a key={l} href={`#/leases/${encodeURIComponent(l)}`}>{l} </a>) : '—'}</td>
                <td>{n.pilot ?? '—'}</td><td>{dateTime(n.departsAt)}</td>
                <td>
                  <button type="button" disabled={n.status !== 'active'} onClick={() => act('POST', `/v1/nodes/${encodeURIComponent(n.id)}/drain`, `${n.id}: drained`)}>Drain {n.id}</button>{' '}
                  <button type="button" class="danger" disabled={n.status !== 'draining' || n.leases.length > 0} onClick={() => confirm(`Remove node ${n.id}?`) && act('DELETE', `/v1/nodes/${encodeURIComponent(n.id)}`, `${n.id}: removed`)}>Remove {n.id}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
