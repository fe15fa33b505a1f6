/**
 * Requests one API key may have in flight at once in this gateway process, so
 * a key that fires slow requests in parallel holds a bounded share of the
 * gateway and the subgraphs. Past the cap a request is refused at once
 * (RATE_LIMITED, Retry-After 1), before any GraphQL work.
 */
import { DomainError, ErrorCode } from '../../lib/errors.js';

export class InFlightLimiter {
  private readonly counts = new Map<string, number>();

  constructor(readonly maxPerKey: number) {}

  /** Admits one request of `key`: its release function (safe to call twice), or a refusal. */
  acquire(key: string): () => void {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.maxPerKey) {
      throw new DomainError(ErrorCode.RateLimited, `This API key already has ${this.maxPerKey} requests in flight; retry when one has answered`, {
        details: { maxInFlight: this.maxPerKey, retryAfterSeconds: 1 },
      });
    }
    this.counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  inFlight(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
