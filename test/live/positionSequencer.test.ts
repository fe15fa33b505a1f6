/** Position order out of commit order: gaps are waited for, holes given up after the window, late items still released. */
import { describe, expect, it } from 'vitest';
import { PositionSequencer, type SequencerClock } from '../../lib/subgraph/positionSequencer.js';

/** A clock whose timers run when the test says so. */
function manualClock(): SequencerClock & { fire(): void; armed(): boolean } {
  let callback: (() => void) | undefined;
  return {
    setTimeout: (run) => {
      callback = run;
      return run;
    },
    clearTimeout: (handle) => {
      if (handle === callback) callback = undefined;
    },
    fire: () => {
      const run = callback;
      callback = undefined;
      run?.();
    },
    armed: () => callback !== undefined,
  };
}

function sequencer() {
  const clock = manualClock();
  const released: Array<[number, boolean]> = [];
  const seq = new PositionSequencer<{ position: number }>({ windowMs: 1_000, clock, release: (item, late) => released.push([item.position, late]) });
  return { seq, clock, released, push: (...positions: number[]) => positions.forEach((position) => seq.push({ position })) };
}

describe('PositionSequencer', () => {
  it('passes in-order items straight through', () => {
    const { seq, released, push, clock } = sequencer();
    seq.start(10);
    push(11, 12, 13);
    expect(released).toEqual([[11, false], [12, false], [13, false]]);
    expect(seq.watermark()).toBe(13);
    expect(clock.armed()).toBe(false);
  });

  it('holds a later commit until the lower position arrives', () => {
    const { seq, released, push } = sequencer();
    seq.start(0);
    push(2, 3);
    expect(released).toEqual([]);
    expect(seq.watermark()).toBe(0);
    push(1);
    expect(released.map(([position]) => position)).toEqual([1, 2, 3]);
  });

  it('gives a gap up as a hole after the window, and releases a straggler as late', () => {
    const { seq, released, push, clock } = sequencer();
    seq.start(0);
    push(1, 3, 4);
    expect(released).toEqual([[1, false]]);
    clock.fire();
    expect(released).toEqual([[1, false], [3, false], [4, false]]);
    expect(seq.watermark()).toBe(4);
    push(2);
    expect(released.at(-1)).toEqual([2, true]);
  });

  it('sequences items that arrive before its starting point is known', () => {
    const { seq, released, push } = sequencer();
    push(6, 5, 4);
    expect(released).toEqual([]);
    seq.start(4);
    expect(released).toEqual([[5, false], [6, false], [4, true]]);
  });
});
