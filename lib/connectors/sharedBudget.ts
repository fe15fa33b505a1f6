/**
 * The call budget every worker process shares, over slots in MongoDB
 * (apiBudget.repository.ts). A call first claims a concurrency slot
 * (when the key limits calls in flight), then a rate slot. When none is free
 * it sleeps until the earliest finished call's slot frees, or, while every slot
 * is held by a call in flight, looks again every `maxPollMs`.
 */
import { randomUUID } from 'node:crypto';
import type { BudgetLease, BudgetLimits, CallBudget } from './callBudget.js';
import { ConnectorFailure } from './failures.js';

/** The storage operations the budget needs (ApiBudgetRepository implements them). */
export interface BudgetSlots {
  claim(key: string, kind: 'rate' | 'concurrency', count: number, holder: string, freeBefore: Date, holdUntil: Date): Promise<{ kind: 'rate' | 'concurrency'; slot: number; holder: string } | null>;
  release(key: string, claimed: { kind: 'rate' | 'concurrency'; slot: number; holder: string }, until?: Date): Promise<void>;
  earliest(key: string, kind: 'rate' | 'concurrency', count: number): Promise<Date | null>;
}

export interface SharedBudgetOptions {
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** How long a claimed slot stays held if its process dies mid-call; longer than any call. @default 120 000 */
  leaseMs?: number;
  /** How often to look again while every slot is held by a call in flight. @default 50 */
  maxPollMs?: number;
  /** How long `acquire` waits in all before failing (retryably). @default 300 000 */
  maxWaitMs?: number;
}

export function createSharedBudget(slots: BudgetSlots, options: SharedBudgetOptions): CallBudget {
  const leaseMs = options.leaseMs ?? 120_000;
  const maxPollMs = options.maxPollMs ?? 50;
  const maxWaitMs = options.maxWaitMs ?? 300_000;
  const at = (offsetMs: number) => new Date(options.now().getTime() + offsetMs);

  async function claimWaiting(key: string, kind: 'rate' | 'concurrency', count: number, freeAfterMs: number, deadline: number) {
    const holder = randomUUID();
    for (;;) {
      const claimed = await slots.claim(key, kind, count, holder, at(-freeAfterMs), at(leaseMs));
      if (claimed) return claimed;
      const now = options.now().getTime();
      if (now >= deadline) {
        throw new ConnectorFailure('BUDGET_EXHAUSTED', `No ${kind} slot of ${key} became free in ${maxWaitMs} ms`, true);
      }
      const earliest = (await slots.earliest(key, kind, count))?.getTime() ?? now;
      // A finished call's slot frees at a known moment: sleep until then. A slot still in
      // flight frees when its call ends, which nobody knows: look again soon.
      const wait = earliest <= now ? earliest + freeAfterMs - now : maxPollMs;
      await options.sleep(Math.max(1, Math.min(wait, deadline - now)));
    }
  }

  // Callers of one process take turns to claim, so a full budget is polled by one caller per
  // process rather than by every waiting call, which would load the database for nothing.
  const turns = new Map<string, Promise<unknown>>();
  function inTurn<T>(key: string, claim: () => Promise<T>): Promise<T> {
    const previous = turns.get(key) ?? Promise.resolve();
    const mine = previous.then(claim, claim);
    const settled = mine.catch(() => undefined);
    turns.set(key, settled);
    void settled.then(() => {
      if (turns.get(key) === settled) turns.delete(key);
    });
    return mine;
  }

  return {
    acquire(key: string, limits: BudgetLimits) {
      const deadline = options.now().getTime() + maxWaitMs;
      return inTurn(key, () => claimBoth(key, limits, deadline));
    },
  };

  async function claimBoth(key: string, limits: BudgetLimits, deadline: number): Promise<BudgetLease> {
    const concurrency = limits.maxConcurrent ? await claimWaiting(key, 'concurrency', limits.maxConcurrent, 0, deadline) : undefined;
    let rate;
    try {
      rate = await claimWaiting(key, 'rate', limits.callsPerWindow, limits.windowMs, deadline);
    } catch (error) {
      if (concurrency) await slots.release(key, concurrency);
      throw error;
    }
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        // The window counts from the call's end: the destination saw the call at some moment before it.
        await slots.release(key, rate, options.now());
        if (concurrency) await slots.release(key, concurrency);
      },
    };
  }
}
