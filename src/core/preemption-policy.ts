/** What a preemption policy may weigh about a lease that could give way. */
export interface VictimCandidate {
  leaseId: string;
  arrival: number;
  seq: number;
  /** Run seconds the lease would lose if cancelled instead of suspended. */
  workAtRisk: number;
  /** Memory that a suspension would have to save, over all its nodes. */
  memoryMiB: number;
}

/** Orders candidates, most preemptible first, by a score (lower gives way first). */
export interface PreemptionPolicy {
  readonly name: string;
  score(candidate: VictimCandidate): number;
}

export const youngestFirst: PreemptionPolicy = {
  name: 'youngest-first',
  score: (c) => -c.arrival,
};

export const leastWorkLost: PreemptionPolicy = {
  name: 'least-work-lost',
  score: (c) => c.workAtRisk * 1e6 + c.memoryMiB,
};

export const PREEMPTION_POLICIES: Readonly<Record<string, PreemptionPolicy>> = {
  [youngestFirst.name]: youngestFirst,
  [leastWorkLost.name]: leastWorkLost,
};

export function orderVictims(policy: PreemptionPolicy, candidates: VictimCandidate[]): VictimCandidate[] {
  return candidates
    .map((c) => ({ c, s: policy.score(c) }))
    .sort((a, b) => a.s - b.s || b.c.seq - a.c.seq)
    .map((x) => x.c);
}
