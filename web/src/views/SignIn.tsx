// Signing in is giving a token (from `vws serve`'s first start, `vws login`, or an administrator):
// it is checked with GET /v1/whoami and kept in this tab's session storage only.

import { useEffect, useState } from 'preact/hooks';
import { whoAmI, type Me } from '../api.ts';

export function SignIn({ tokenKey, onSignedIn }: { tokenKey: string; onSignedIn: (token: string, me: Me) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tryToken = async (t: string, remembered: boolean) => {
    setBusy(true);
    try {
      const me = await whoAmI(t);
      sessionStorage.setItem(tokenKey, t);
      onSignedIn(t, me);
    } catch (e) {
      if (remembered) sessionStorage.removeItem(tokenKey);
      else setError(`${(e as Error).message} Check the token, or ask an administrator for a new one.`);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    const kept = sessionStorage.getItem(tokenKey);
    if (kept) void tryToken(kept, true);
  }, []);
  return (
    <main class="sign-in">
      <h1>vws dashboard</h1>
      <form onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        void tryToken(token.trim(), false);
      }}>
        <label for="token">API token</label>
        <input id="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} required />
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
      <p class="hint">The token is kept for this browser tab only. <code>vws login</code> and <code>vws serve</code>'s first start print one.</p>
    </main>
  );
}
