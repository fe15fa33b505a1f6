/**
 * The call budget every worker process shares, over slots in MongoDB
 * (destinationBudget.repository.ts). A call first claims a concurrency slot
 * (when the key limits calls in flight), then a rate slot; when none is free it
 * waits until the earliest one frees, polling no slower than `maxPollMs` so a
 * slot released early is noticed.
 */
import { randomUUID } from 'node:crypto';
import type { BudgetLease, BudgetLimits, CallBudget } from './callBudget.js';
import { ConnectorFailure } from './failures.js';

/** The storage operations the budget needs (DestinationBudgetRepository implements them). */
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
  /** Longest wait between two looks at a full budget. @default 50 */
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
      const earliest = await slots.earliest(key, kind, count);
      const freeAt = earliest ? earliest.getTime() + freeAfterMs : now;
      await options.sleep(Math.max(1, Math.min(maxPollMs, freeAt - now, deadline - now)));
    }
  }

  return {
    async acquire(key: string, limits: BudgetLimits): Promise<BudgetLease> {
      const deadline = options.now().getTime() + maxWaitMs;
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
    },
  };
}
