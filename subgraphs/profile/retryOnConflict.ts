/**
 * Re-runs a read-compute-write of profiles while another writer keeps getting
 * there first. Each attempt must read afresh: the work is the whole batch,
 * re-read and re-applied, never a patch of the failed write.
 */
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { ProfileVersionConflict } from './people.repository.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the second attempt; doubled each time, jittered by up to 100%. */
  backoffMs: number;
  /** Injected so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, backoffMs: 10 };

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function retryOnConflict<T>(what: string, work: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const { sleep = wait, random = Math.random } = policy;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ProfileVersionConflict)) throw error;
      if (attempt >= policy.attempts) {
        throw new DomainError(
          ErrorCode.Conflict,
          `${what} conflicted with concurrent writes to the same profiles ${attempt} times; it may be partly applied; retry the request (records are idempotent)`,
          { details: { attempts: attempt, retryable: true }, cause: error },
        );
      }
      // Jitter, so writers that collided do not collide again in step.
      await sleep(policy.backoffMs * 2 ** (attempt - 1) * (1 + random()));
    }
  }
}
