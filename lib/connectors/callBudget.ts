/**
 * A budget of API calls that every worker process shares: at most
 * `callsPerWindow` calls in any `windowMs` and at most `maxConcurrent` in flight
 * per key (a Marketo instance, a LinkedIn member). Connectors acquire a lease
 * before each call and release it after; the MongoDB-backed implementation is
 * `sharedBudget.ts` over `apiBudget.repository.ts`.
 */
export interface BudgetLimits {
  callsPerWindow: number;
  windowMs: number;
  /** Omitted: no limit on calls in flight. */
  maxConcurrent?: number;
}

export interface BudgetLease {
  /** Marks the call finished; its window slot counts until `windowMs` after this moment. */
  release(): Promise<void>;
}

export interface CallBudget {
  /** Resolves once a call may start; rejects (retryable) when none frees up in time. */
  acquire(key: string, limits: BudgetLimits): Promise<BudgetLease>;
}

export async function withBudget<T>(budget: CallBudget, key: string, limits: BudgetLimits, call: () => Promise<T>): Promise<T> {
  const lease = await budget.acquire(key, limits);
  try {
    return await call();
  } finally {
    await lease.release();
  }
}

/** For destinations with no published limit (files, webhooks). */
export const unlimitedBudget: CallBudget = {
  acquire: async () => ({ release: async () => {} }),
};
