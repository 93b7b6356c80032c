// The fuzz's figures: requests sent, by route (method and path template), by role, by mutation,
// answers by status and by error code, and how many refusals had the store digested around them.

export interface Figures {
  seed: number;
  store: string;
  requests: number;
  /** Calls made to keep the run going (a role's user enabled again), not fuzz requests. */
  repairs: number;
  clockAdvances: number;
  routes: Record<string, number>;
  /** Routes that answered 2xx at least once. */
  routesAccepted: Record<string, number>;
  roles: Record<string, number>;
  mutations: Record<string, number>;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  refusals: number;
  /** Refusals with the whole store digested before and after. */
  refusalsDigested: number;
  /** Refusals with the store's commit counter read before and after (SQLite: every one). */
  refusalsCommitsWatched: number;
  notSent: Record<string, number>;
}

const bump = (into: Record<string, number>, key: string): void => void (into[key] = (into[key] ?? 0) + 1);

export class Tally {
  readonly figures: Figures;

  constructor(seed: number, store: string) {
    this.figures = { seed, store, requests: 0, repairs: 0, clockAdvances: 0, routes: {}, routesAccepted: {}, roles: {}, mutations: {}, statuses: {}, codes: {}, refusals: 0, refusalsDigested: 0, refusalsCommitsWatched: 0, notSent: {} };
  }

  answered(route: string, role: string, mutations: string[], status: number, code: string | null, checked: { digested: boolean; commitsWatched: boolean }): void {
    const f = this.figures;
    f.requests++;
    bump(f.routes, route);
    bump(f.roles, role);
    for (const m of mutations.length > 0 ? mutations : ['none']) bump(f.mutations, m);
    bump(f.statuses, String(status));
    if (code !== null) bump(f.codes, code);
    if (status >= 200 && status < 300) bump(f.routesAccepted, route);
    if (status >= 400) {
      f.refusals++;
      if (checked.digested) f.refusalsDigested++;
      if (checked.commitsWatched) f.refusalsCommitsWatched++;
    }
  }

  /** A request the test's HTTP client would not build (a header Node refuses): counted, not sent. */
  notSent(why: string): void {
    bump(this.figures.notSent, why);
  }

  /** One line for the test's output. */
  summary(): string {
    const f = this.figures;
    const top = (r: Record<string, number>): string => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    return [
      `fuzz on ${f.store}, seed ${f.seed} (replay: VWS_FUZZ_SEED=${f.seed}): ${f.requests} requests on ${Object.keys(f.routes).length} routes (${Object.keys(f.routesAccepted).length} answered 2xx at least once), ${f.clockAdvances} clock moves, ${f.repairs} repairs`,
      `roles: ${top(f.roles)}`,
      `statuses: ${top(f.statuses)}`,
      `codes: ${top(f.codes)}`,
      `refusals: ${f.refusals}; the whole store digested around ${f.refusalsDigested}, its commit counter read around ${f.refusalsCommitsWatched}`,
      `mutations: ${top(f.mutations)}`,
    ].join('\n');
  }
}
