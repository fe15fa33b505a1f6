/** The order segments are evaluated in: users of `inSegment` after what they use, and a cycle refused by name. */
import { describe, expect, it } from 'vitest';
import { evaluationOrder, SegmentCycleError } from '../../../subgraphs/segment/evaluation/evaluationOrder.js';

describe('evaluation order', () => {
  it('keeps the given order when nothing depends on anything', () => {
    expect(evaluationOrder([{ id: 'b', dependsOn: [] }, { id: 'a', dependsOn: [] }])).toEqual(['b', 'a']);
  });

  it('puts every segment after the segments it uses, chains and diamonds included', () => {
    const order = evaluationOrder([
      { id: 'top', dependsOn: ['left', 'right'] },
      { id: 'left', dependsOn: ['base'] },
      { id: 'right', dependsOn: ['base', 'left'] },
      { id: 'base', dependsOn: [] },
      { id: 'alone', dependsOn: [] },
    ]);
    expect(order).toEqual(['base', 'left', 'right', 'top', 'alone']);
  });

  it('ignores segments outside the set (their memberships are read as they are)', () => {
    expect(evaluationOrder([{ id: 'mine', dependsOn: ['elsewhere'] }])).toEqual(['mine']);
  });

  it('refuses a cycle, naming it', () => {
    const attempt = () =>
      evaluationOrder([
        { id: 'ok', dependsOn: [] },
        { id: 'a', dependsOn: ['ok', 'c'] },
        { id: 'b', dependsOn: ['a'] },
        { id: 'c', dependsOn: ['b'] },
      ]);
    expect(attempt).toThrow(SegmentCycleError);
    expect(attempt).toThrow('Segments depend on each other in a cycle (a -> c -> b -> a)');
    expect(() => evaluationOrder([{ id: 'self', dependsOn: ['self'] }])).toThrow('(self -> self)');
  });
});
