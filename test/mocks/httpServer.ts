/**
 * What every mock API of the tests stands on: a real HTTP server on a free loopback
 * port (the benchmarks' own, bench/support/mockServer.ts, which benchmarks share
 * without importing tests) and the small helpers every mock needs.
 */
import type { MockReply as ServedReply } from '../../bench/support/mockServer.js';

export { startMockServer, type MockRequest, type RunningMock } from '../../bench/support/mockServer.js';

/** A test mock always says its status, so tests can read it from what the mock recorded. */
export type MockReply = ServedReply & { status: number };

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts events in a sliding window: how many arrived in (t - windowMs, t]. */
export class SlidingWindow {
  private readonly times: number[] = [];
  maxSeen = 0;

  constructor(readonly windowMs: number) {}

  /** Records an event at `at` unless `limit` are already in the window; false when refused. */
  tryAdd(at: number, limit: number): boolean {
    while (this.times.length && this.times[0]! <= at - this.windowMs) this.times.shift();
    if (this.times.length >= limit) return false;
    this.times.push(at);
    this.maxSeen = Math.max(this.maxSeen, this.times.length);
    return true;
  }

  /** Milliseconds until the oldest event leaves the window. */
  waitFrom(at: number): number {
    return this.times.length ? Math.max(0, this.times[0]! + this.windowMs - at) : 0;
  }
}
