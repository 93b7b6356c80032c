// The dashboard's shell: sign in with a token (kept for this tab only), then the views under a
// hash route (#/gantt, #/leases, #/leases/ID, #/new, #/nodes, #/what-if), all fed by one event stream.

import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiWith, type Me } from './api.ts';
import { openEvents, type ServiceEvent, type StreamState } from './events.ts';
import { Gantt } from './gantt/Gantt.tsx';
import { LeaseDetail } from './views/LeaseDetail.tsx';
import { LeaseList } from './views/LeaseList.tsx';
import { NewLease } from './views/NewLease.tsx';
import { Nodes } from './views/Nodes.tsx';
import { SignIn } from './views/SignIn.tsx';
import { WhatIf } from './views/WhatIf.tsx';

const TOKEN_KEY = 'vws.token';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/gantt');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/gantt');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<{ token: string; me: Me } | null>(null);
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
  };
  if (!session) return <SignIn tokenKey={TOKEN_KEY} onSignedIn={(token, me) => setSession({ token, me })} />;
  return <Signed token={session.token} me={session.me} signOut={signOut} />;
}

function Signed({ token, me, signOut }: { token: string; me: Me; signOut: () => void }) {
  const api = useMemo(() => apiWith(token, signOut), [token]);
  const hash = useHash();
  const [stream, setStream] = useState<StreamState>('connecting');
  const [events, setEvents] = useState<ServiceEvent[]>([]);
  // Bumped at most every half second while lease or node events arrive: the views read again.
  const [refresh, setRefresh] = useState(0);
  const pending = useRef<number | null>(null);
  useEffect(() => openEvents(token, (e) => {
    setEvents((list) => [...list.slice(-499), e]);
    if (pending.current === null) {
      pending.current = window.setTimeout(() => {
        pending.current = null;
        setRefresh((n) => n + 1);
      }, 500);
    }
  }, setStream), [token]);

  const [path, id] = hash.slice(2).split('/');
  const go = (to: string) => (location.hash = to);
  let view;
  if (path === 'leases' && id) view = <LeaseDetail api={api} me={me} id={decodeURIComponent(id)} refresh={refresh} events={events} />;
  else if (path === 'leases') view = <LeaseList api={api} refresh={refresh} onOpen={(l) => go(`#/leases/${encodeURIComponent(l)}`)} />;
  else if (path === 'new') view = <NewLease api={api} refresh={refresh} />;
  else if (path === 'nodes' && me.isAdmin) view = <Nodes api={api} refresh={refresh} />;
  else if (path === 'what-if' && me.isAdmin) view = <WhatIf api={api} />;
  else view = <Gantt api={api} refresh={refresh} onSelect={(l) => go(`#/leases/${encodeURIComponent(l)}`)} />;
  const link = (to: string, name: string) => <a href={to} aria-current={hash.startsWith(to) ? 'page' : undefined}>{name}</a>;
  return (
    <>
      <header class="top">
        <span class="brand">vws</span>
        <nav aria-label="Views">
          {link('#/gantt', 'Slot table')}
          {link('#/leases', 'Leases')}
          {link('#/new', 'New lease')}
          {me.isAdmin && link('#/nodes', 'Nodes')}
          {me.isAdmin && link('#/what-if', 'What if?')}
        </nav>
        <span class={`stream ${stream}`} role="status" aria-live="polite">events: {stream}</span>
        <span class="who">{me.name}{me.isAdmin ? ' (admin)' : ''}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <main>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
