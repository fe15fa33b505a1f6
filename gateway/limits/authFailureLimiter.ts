/**
 * Failed authentications per client address, counted in memory: once an
 * address has failed `perMinute` times in a minute, its further attempts are
 * refused (RATE_LIMITED, with Retry-After) before any key is looked up, so
 * guessing keys costs the database nothing beyond the budget. Counted per
 * gateway process; behind a proxy every client shares the proxy's address.
 */
import { DomainError, ErrorCode } from '../../lib/errors.js';

const WINDOW_MS = 60_000;
/** Addresses remembered at once; the oldest window is forgotten first beyond it. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface FailureWindow {
  startedAt: number;
  failures: number;
}

export class AuthFailureLimiter {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws RATE_LIMITED when `address` has spent its failures for this minute. */
  check(address: string): void {
    const window = this.current(address);
    if (!window || window.failures < this.perMinute) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - this.now()) / 1000));
    throw new DomainError(ErrorCode.RateLimited, `Too many failed authentications from this address; retry after ${retryAfterSeconds} s`, {
      details: { retryAfterSeconds },
    });
  }

  recordFailure(address: string): void {
    const window = this.current(address);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) this.forgetOldest();
    this.windows.set(address, { startedAt: this.now(), failures: 1 });
  }

  private current(address: string): FailureWindow | undefined {
    const window = this.windows.get(address);
    if (window && window.startedAt + WINDOW_MS <= this.now()) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private forgetOldest(): void {
    const now = this.now();
    for (const [address, window] of this.windows) {
      if (window.startedAt + WINDOW_MS <= now) this.windows.delete(address);
    }
    // Insertion order is age order: drop the oldest if nothing had expired.
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}
