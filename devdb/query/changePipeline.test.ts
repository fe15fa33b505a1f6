import { describe, expect, it } from 'vitest';
import { compileChangePipeline, NotCovered } from './changePipeline.js';
import { Aggregator, guardPipeline } from './mingoContext.js';
import type { Doc } from './values.js';

/** What mingo's aggregation (devdb's general path) answers for one event. */
const viaMingo = (pipeline: Doc[], event: Doc): Doc | null => (new Aggregator(guardPipeline(pipeline)).run([event]) as Doc[])[0] ?? null;

const IS_EVENT = { $eq: ['$ns.coll', 'events'] };
/** The shape of the streaming evaluator's feed: a namespace `$match`, then a few post-image fields and an event's own. */
const FEED: Doc[] = [
  { $match: { $or: [{ 'ns.coll': { $in: ['people', 'events'] } }, { operationType: 'invalidate' }] } },
  {
    $project: {
      operationType: 1,
      ns: 1,
      documentKey: 1,
      wallTime: 1,
      'updateDescription.updatedFields': 1,
      'fullDocument.identityKeys': 1,
      'fullDocument.mergedInto': 1,
      'fullDocument.type': { $cond: [IS_EVENT, '$fullDocument.type', '$$REMOVE'] },
      'fullDocument.url': { $cond: { if: IS_EVENT, then: '$fullDocument.url', else: '$$REMOVE' } },
    },
  },
];

const token = (n: number) => ({ _data: `82${String(n).padStart(16, '0')}` });
const EVENTS: Doc[] = [
  { _id: token(1), operationType: 'insert', ns: { db: 'd', coll: 'events' }, documentKey: { _id: 'e1' }, wallTime: new Date(1), fullDocument: { _id: 'e1', url: '/pricing', identityKey: 'email:a', type: 'web.pageView', attributes: { big: 'x' } } },
  { _id: token(2), operationType: 'insert', ns: { db: 'd', coll: 'people' }, documentKey: { _id: 'p1' }, fullDocument: { _id: 'p1', type: 'not an event', identityKeys: ['email:a'], attributes: { big: 'x' } } },
  { _id: token(3), operationType: 'delete', ns: { db: 'd', coll: 'events' }, documentKey: { _id: 'e1' } },
  { _id: token(4), operationType: 'update', ns: { db: 'd', coll: 'people' }, documentKey: { _id: 'p1' }, updateDescription: { updatedFields: { mergedInto: 'p2' }, removedFields: [] }, fullDocument: { _id: 'p1', mergedInto: 'p2' } },
  { _id: token(5), operationType: 'insert', ns: { db: 'd', coll: 'accounts' }, documentKey: { _id: 'a1' }, fullDocument: { _id: 'a1' } },
  { _id: token(6), operationType: 'insert', ns: { db: 'd', coll: 'events' }, documentKey: { _id: 'e2' }, fullDocument: 'not a document' },
  { _id: token(7), operationType: 'invalidate' },
];

describe('change stream pipelines without mingo', () => {
  it('answers what mingo answers for the feed pipeline, event by event', () => {
    const fast = compileChangePipeline(FEED)!;
    expect(fast).not.toBeNull();
    for (const event of EVENTS) expect(fast(event)).toEqual(viaMingo(FEED, event));
  });

  it("keeps MongoDB's order (included fields as the input has them) and creates the parent of a computed field", () => {
    const fast = compileChangePipeline(FEED)!;
    const event = fast(EVENTS[0]!)!;
    expect(Object.keys(event)).toEqual(['_id', 'operationType', 'ns', 'documentKey', 'wallTime', 'fullDocument']);
    expect(event.fullDocument).toEqual({ type: 'web.pageView', url: '/pricing' });
    expect(fast(EVENTS[2]!)).toEqual({ _id: token(3), operationType: 'delete', ns: { db: 'd', coll: 'events' }, documentKey: { _id: 'e1' }, fullDocument: {} });
    expect(fast(EVENTS[4]!)).toBeNull();
  });

  it('leaves to mingo what it does not cover: whole pipelines at compile time, paths through arrays per event', () => {
    expect(compileChangePipeline([{ $addFields: { x: 1 } }])).toBeNull();
    expect(compileChangePipeline([{ $project: { fullDocument: 0 } }])).toBeNull();
    expect(compileChangePipeline([{ $project: { a: { $concat: ['$x', 'y'] } } }])).toBeNull();
    expect(compileChangePipeline([{ $project: { a: 1, 'a.b': 1 } }])).toBeNull();
    const fast = compileChangePipeline([{ $project: { 'fullDocument.list.a': 1 } }])!;
    expect(() => fast({ _id: token(1), fullDocument: { list: [{ a: 1 }] } })).toThrow(NotCovered);
    expect(fast({ _id: token(1), fullDocument: { list: { a: 1, b: 2 } } })).toEqual({ _id: token(1), fullDocument: { list: { a: 1 } } });
  });
});
