// A store that fails (disk full, database gone, a constraint broken by a bug) is not the caller's
// fault: the API answers it with a 5xx, never a 4xx. Errors that come out of the store are told
// apart from bugs in the code around it by wrapping the store once, here, instead of guessing
// from error classes or messages of each driver (better-sqlite3, pg).

import type { Store } from './store.ts';

/** The store failed to read or write; what it says is in `cause`. */
export class StoreUnavailable extends Error {
  /** `stopped`: the service takes nothing more until it is restarted (it heard an input the store lost). */
  constructor(message: string, cause: unknown, readonly stopped = false) {
    super(message, { cause });
    this.name = 'StoreUnavailable';
  }
}

const guarded = new WeakSet<Store>();

/**
 * The same store, whose failures come out as StoreUnavailable. What the function given to
 * transaction() throws itself passes through unchanged: only the store's own failure to begin or
 * commit is the store's.
 */
export function guardStore(store: Store): Store {
  if (guarded.has(store)) return store;
  const wrap = (operation: string, e: unknown): unknown =>
    (e instanceof StoreUnavailable ? e : new StoreUnavailable(`the store failed in ${operation}: ${(e as Error)?.message ?? String(e)}`, e));
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const name = String(prop);
      if (name === 'transaction') {
        return async <T>(fn: () => Promise<T>): Promise<T> => {
          const own = { thrown: false, error: undefined as unknown };
          try {
            return await target.transaction(async () => {
              try {
                return await fn();
              } catch (e) {
                own.thrown = true;
                own.error = e;
                throw e;
              }
            });
          } catch (e) {
            throw own.thrown && e === own.error ? e : wrap('transaction', e);
          }
        };
      }
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          throw wrap(name, e);
        }
        return result instanceof Promise ? result.catch((e: unknown) => { throw wrap(name, e); }) : result;
      };
    },
  });
  guarded.add(proxy);
  return proxy;
}
