// Fetches the slot table for the window in view and as much again on each side, and again when
// the view leaves what was fetched or the page says the table changed.

import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { buildModel, type Model, type Slots } from './model.ts';

/** The longest window GET /v1/slots gives (366 days). */
export const LONGEST_WINDOW = 366 * 86_400;

export function useFetchedSlots(api: Api | null, view: { t0: number; t1: number }, refresh: number): { model: Model | null; error: string | null } {
  const [model, setModel] = useState<Model | null>(null);
  const [loaded, setLoaded] = useState<{ from: number; to: number; refresh: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!api) return;
    const len = view.t1 - view.t0;
    if (loaded && loaded.refresh === refresh && view.t0 >= loaded.from && view.t1 <= loaded.to) return;
    const from = Math.max(0, Math.floor(view.t0 - len));
    const to = Math.min(from + LONGEST_WINDOW, Math.ceil(view.t1 + len));
    let live = true;
    api<Slots>('GET', `/v1/slots?from=${from}&to=${to}`).then((slots) => {
      if (!live) return;
      setModel(buildModel(slots));
      setLoaded({ from, to, refresh });
      setError(null);
    }, (e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [api, view.t0, view.t1, refresh]);
  return { model, error };
}
