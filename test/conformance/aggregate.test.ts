import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => {
  ctx = await openConformance('aggregate');
  await ctx.db.collection('accounts').insertMany([
    { _id: 'a1' as never, name: 'Acme', industry: 'software' },
    { _id: 'a2' as never, name: 'Globex', industry: 'energy' },
  ]);
  await ctx.db.collection('people').insertMany([
    { name: 'p1', accountId: 'a1', score: 10 },
    { name: 'p2', accountId: 'a1', score: 30 },
    { name: 'p3', accountId: 'a2', score: 5 },
    { name: 'p4', accountId: 'none', score: 1 },
  ]);
});
afterAll(async () => { await ctx.close(); });

describe('aggregate', () => {
  it('groups, sorts and projects', async () => {
    const res = await ctx.db.collection('people').aggregate([
      { $match: { score: { $gte: 5 } } },
      { $group: { _id: '$accountId', total: { $sum: '$score' }, n: { $sum: 1 } } },
      { $sort: { total: -1 } },
      { $project: { _id: 0, account: '$_id', total: 1, n: 1 } },
    ]).toArray();
    expect(res).toEqual([{ total: 40, n: 2, account: 'a1' }, { total: 5, n: 1, account: 'a2' }]);
  });

  it('joins with $lookup and $unwind', async () => {
    const res = await ctx.db.collection('people').aggregate([
      { $lookup: { from: 'accounts', localField: 'accountId', foreignField: '_id', as: 'account' } },
      { $unwind: { path: '$account', preserveNullAndEmptyArrays: true } },
      { $project: { _id: 0, name: 1, industry: '$account.industry' } },
      { $sort: { name: 1 } },
    ]).toArray();
    expect(res).toEqual([
      { name: 'p1', industry: 'software' },
      { name: 'p2', industry: 'software' },
      { name: 'p3', industry: 'energy' },
      { name: 'p4' },
    ]);
  });

  it('counts with countDocuments and $count, and runs $facet', async () => {
    const people = ctx.db.collection('people');
    expect(await people.countDocuments({ accountId: 'a1' })).toBe(2);
    const [facets] = await people.aggregate([
      { $facet: { high: [{ $match: { score: { $gt: 8 } } }, { $count: 'n' }], all: [{ $count: 'n' }] } },
    ]).toArray();
    expect(facets).toEqual({ high: [{ n: 2 }], all: [{ n: 4 }] });
  });

  it('writes results with $out and $merge without touching the source', async () => {
    const people = ctx.db.collection('people');
    await people.aggregate([{ $match: { accountId: 'a1' } }, { $project: { name: 1 } }, { $out: 'a1_people' }]).toArray();
    expect(await ctx.db.collection('a1_people').countDocuments()).toBe(2);
    await people.aggregate([
      { $group: { _id: '$accountId', total: { $sum: '$score' } } },
      { $merge: { into: 'totals', on: '_id', whenMatched: 'replace', whenNotMatched: 'insert' } },
    ]).toArray();
    await people.aggregate([
      { $match: { accountId: 'a1' } },
      { $group: { _id: '$accountId', extra: { $max: '$score' } } },
      { $merge: { into: 'totals', whenMatched: 'merge' } },
    ]).toArray();
    expect(await ctx.db.collection('totals').findOne({ _id: 'a1' as never })).toEqual({ _id: 'a1', total: 40, extra: 30 });
    expect(await people.findOne({ name: 'p1' }, { projection: { _id: 0 } })).toEqual({ name: 'p1', accountId: 'a1', score: 10 });
  });

  it('leaves stored documents unchanged by $set/$unset stages', async () => {
    const people = ctx.db.collection('people');
    await people.aggregate([{ $set: { score: 0, extra: 1 } }, { $unset: 'name' }]).toArray();
    expect(await people.findOne({ name: 'p2' }, { projection: { _id: 0 } })).toEqual({ name: 'p2', accountId: 'a1', score: 30 });
    await people.aggregate([
      { $lookup: { from: 'accounts', localField: 'accountId', foreignField: '_id', as: 'account' } },
      { $unwind: '$account' },
      { $set: { 'account.touched': true } },
      { $project: { 'account.name': 0 } },
    ]).toArray();
    expect(await ctx.db.collection('accounts').findOne({ _id: 'a1' as never })).toEqual({ _id: 'a1', name: 'Acme', industry: 'software' });
  });

  it('handles ObjectId values in $lookup, $group and conversions', async () => {
    const orgs = ctx.db.collection('orgs');
    const members = ctx.db.collection('members');
    const { insertedIds } = await orgs.insertMany([{ name: 'o1' }, { name: 'o2' }]);
    await members.insertMany([{ org: insertedIds[0] }, { org: insertedIds[0] }, { org: insertedIds[1] }]);
    const joined = await members.aggregate([
      { $lookup: { from: 'orgs', localField: 'org', foreignField: '_id', as: 'o' } },
      { $group: { _id: '$org', n: { $sum: 1 }, name: { $first: { $arrayElemAt: ['$o.name', 0] } } } },
      { $sort: { name: 1 } },
    ]).toArray();
    expect(joined.map((g) => [g.name, g.n])).toEqual([['o1', 2], ['o2', 1]]);
    expect(joined[0]._id).toBeInstanceOf(ObjectId);
    const [conv] = await members.aggregate([
      { $limit: 1 },
      { $project: { _id: 0, hex: { $toString: '$org' }, back: { $toObjectId: { $toString: '$org' } }, t: { $type: '$org' } } },
    ]).toArray();
    expect(conv.hex).toBe(insertedIds[0].toHexString());
    expect(conv.back).toEqual(insertedIds[0]);
    expect(conv.t).toBe('objectId');
  });
});
