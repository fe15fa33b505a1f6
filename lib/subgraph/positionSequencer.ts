/**
 * Releases items of a positioned log in position order, as a change stream
 * delivers them in commit order.
 *
 * Why: a log whose positions come from a counter (`$inc`, then insert) can
 * commit out of position order. Writer A takes 1-10, writer B takes 11-20, B
 * commits first; a reader that passed 11-20 on at once, and let a client keep
 * 20 as its resume point, would never give that client 1-10. So an item waits
 * while a lower position is missing, for at most `windowMs` after the gap was
 * first seen. A position that never arrives within the window (an insert that
 * failed as a duplicate, which leaves its allocated position unused) is then
 * given up as a hole and the items after it are released.
 *
 * The cost is latency only when there is a gap; in-order commits pass straight
 * through. An item that arrives after its position was given up (a writer
 * slower than the window) is still released, flagged `late`, so it is not lost
 * to live subscribers.
 */
export interface Positioned {
  readonly position: number;
}

export interface SequencerClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: SequencerClock = {
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PositionSequencerOptions<T extends Positioned> {
  /** How long a gap is waited for before its positions are given up. */
  windowMs: number;
  /** Receives items in position order; `late` ones arrived after their position was given up. */
  release: (item: T, late: boolean) => void;
  clock?: SequencerClock;
}

export class PositionSequencer<T extends Positioned> {
  private readonly pending = new Map<number, T>();
  /** Every position at or below this has been released or given up; undefined until `start`. */
  private released: number | undefined;
  private early: T[] = [];
  private timer: unknown;
  private readonly clock: SequencerClock;

  constructor(private readonly options: PositionSequencerOptions<T>) {
    this.clock = options.clock ?? realClock;
  }

  /**
   * Sets the position everything at or below is known to be in the log already
   * (read after the stream opened); items pushed before this are then sequenced.
   */
  start(releasedThrough: number): void {
    if (this.released !== undefined) return;
    this.released = releasedThrough;
    const early = this.early;
    this.early = [];
    for (const item of early) this.push(item);
  }

  /** The highest position through which everything is released or given up (-1 before `start`). */
  watermark(): number {
    return this.released ?? -1;
  }

  /** How many items wait for a lower position. */
  get waiting(): number {
    return this.pending.size;
  }

  push(item: T): void {
    if (this.released === undefined) {
      this.early.push(item);
      return;
    }
    if (item.position <= this.released) {
      this.options.release(item, true);
      return;
    }
    this.pending.set(item.position, item);
    this.drain();
  }

  /** Stops the gap timer; nothing more is released. */
  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.early = [];
  }

  private drain(): void {
    let next = (this.released as number) + 1;
    let item = this.pending.get(next);
    const advanced = item !== undefined;
    while (item) {
      this.pending.delete(next);
      this.released = next;
      this.options.release(item, false);
      next++;
      item = this.pending.get(next);
    }
    // A gap that closed restarts the clock for the next one: each gap gets the whole window.
    if (this.timer !== undefined && (advanced || this.pending.size === 0)) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.size > 0 && this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => this.giveUpGap(), this.options.windowMs);
    }
  }

  /** The window passed: positions below the lowest waiting item are holes. */
  private giveUpGap(): void {
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const lowest = Math.min(...this.pending.keys());
    this.released = lowest - 1;
    this.drain();
  }
}
