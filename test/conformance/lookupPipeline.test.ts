/**
 * Aggregation behaviour the segment pipeline relies on: the concise correlated `$lookup`
 * (localField/foreignField AND pipeline, MongoDB 5.0+), string ordering by code point in
 * expressions, and `$regexMatch` matching code points (PCRE in UTF mode).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => {
  ctx = await openConformance('lookup');
  await ctx.db.collection('people').insertMany([
    { _id: 'p1' as never, keys: ['k1', 'k2'], tag: 'x' },
    { _id: 'p2' as never, keys: ['k3'] },
    { _id: 'p3' as never },
  ]);
  await ctx.db.collection('events').insertMany([
    { _id: 'e1' as never, key: 'k1', type: 'view', n: 1 },
    { _id: 'e2' as never, key: 'k2', type: 'open', n: 2 },
    { _id: 'e3' as never, key: 'k2', type: 'view', n: 3 },
    { _id: 'e4' as never, key: 'k3', type: 'view', n: 4 },
    { _id: 'e5' as never, key: ['k1', 'k3'], type: 'view', n: 5 },
  ]);
});
afterAll(async () => { await ctx.close(); });

describe('$lookup with localField, foreignField and pipeline', () => {
  it('runs the pipeline over the matched documents only, each once', async () => {
    const res = await ctx.db.collection('people').aggregate([
      {
        $lookup: {
          from: 'events',
          localField: 'keys',
          foreignField: 'key',
          pipeline: [{ $match: { type: 'view' } }, { $sort: { _id: 1 } }, { $project: { _id: 1 } }],
          as: 'views',
        },
      },
      { $sort: { _id: 1 } },
      { $project: { views: 1 } },
    ]).toArray();
    expect(res).toEqual([
      { _id: 'p1', views: [{ _id: 'e1' }, { _id: 'e3' }, { _id: 'e5' }] },
      { _id: 'p2', views: [{ _id: 'e4' }, { _id: 'e5' }] },
      { _id: 'p3', views: [] },
    ]);
  });

  it('joins an array local field without a pipeline, and inside another lookup\'s pipeline', async () => {
    const [plain] = await ctx.db.collection('people').aggregate([
      { $match: { _id: 'p2' } },
      { $lookup: { from: 'events', localField: 'keys', foreignField: 'key', as: 'events' } },
      { $project: { ids: '$events._id' } },
    ]).toArray();
    expect([...(plain!.ids as string[])].sort()).toEqual(['e4', 'e5']);
    const nested = await ctx.db.collection('events').aggregate([
      { $match: { _id: { $in: ['e1', 'e4'] } } },
      {
        $lookup: {
          from: 'people',
          localField: 'key',
          foreignField: 'keys',
          pipeline: [
            { $lookup: { from: 'events', localField: 'keys', foreignField: 'key', pipeline: [{ $match: { type: 'view' } }, { $count: 'n' }], as: 'views' } },
            { $project: { views: { $arrayElemAt: ['$views.n', 0] } } },
          ],
          as: 'people',
        },
      },
      { $sort: { _id: 1 } },
      { $project: { people: 1 } },
    ]).toArray();
    expect(nested).toEqual([
      { _id: 'e1', people: [{ _id: 'p1', views: 3 }] },
      { _id: 'e4', people: [{ _id: 'p2', views: 2 }] },
    ]);
  });

  it('reduces the join to a count and sees let variables', async () => {
    const res = await ctx.db.collection('people').aggregate([
      { $match: { _id: 'p1' } },
      {
        $lookup: {
          from: 'events',
          localField: 'keys',
          foreignField: 'key',
          let: { tag: '$tag' },
          pipeline: [{ $match: { $expr: { $and: [{ $gte: ['$n', 2] }, { $eq: ['$$tag', 'x'] }] } } }, { $count: 'n' }],
          as: 'counted',
        },
      },
      { $project: { _id: 0, counted: 1 } },
    ]).toArray();
    expect(res).toEqual([{ counted: [{ n: 3 }] }]);
  });
});

describe('strings in expressions', () => {
  it('orders strings by code point, not by UTF-16 unit', async () => {
    const [res] = await ctx.db.collection('people').aggregate([
      { $limit: 1 },
      {
        $project: {
          _id: 0,
          lt: { $lt: ['\uFFFF', '\u{10000}'] },
          gt: { $gt: ['\u{10000}', '\uFFFF'] },
          cmp: { $cmp: ['\uFF61', '\u{1F600}'] },
          ascii: { $lt: ['Z', 'a'] },
        },
      },
    ]).toArray();
    expect(res).toEqual({ lt: true, gt: true, cmp: -1, ascii: true });
  });

  it('matches a regular expression by code point', async () => {
    const [res] = await ctx.db.collection('people').aggregate([
      { $limit: 1 },
      {
        $project: {
          _id: 0,
          one: { $regexMatch: { input: '\u{1F600}', regex: '^.$' } },
          class: { $regexMatch: { input: 'a\u{1F600}b', regex: '^a[\\s\\S]b$' } },
          plain: { $regexMatch: { input: 'pricing page', regex: 'ici' } },
          missing: { $regexMatch: { input: '$nothing', regex: 'x' } },
        },
      },
    ]).toArray();
    expect(res).toEqual({ one: true, class: true, plain: true, missing: false });
  });
});
