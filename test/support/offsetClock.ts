/**
 * A clock that follows real time and can be moved forward, for platforms whose
 * caches and tokens must expire in a test without the test waiting for them.
 */
export interface OffsetClock {
  now(): Date;
  advance(ms: number): void;
}

export function offsetClock(): OffsetClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms) {
      offsetMs += ms;
    },
  };
}
