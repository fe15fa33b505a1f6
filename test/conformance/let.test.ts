/**
 * `let` variables (MongoDB 5.0+) on find, update, delete, findAndModify, bulk writes and aggregate,
 * as the CRUD specification tests exercise them (source/crud/tests/unified/*-let.yml): each value is
 * an expression evaluated once, usable as `$$name` in `$expr` and in pipeline updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Document } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('let'); });
afterAll(async () => { await ctx.close(); });

const byId = { $expr: { $eq: ['$_id', '$$id'] } };

async function twoDocs(name: string): Promise<Collection<Document>> {
  const c = ctx.db.collection<Document>(name);
  await c.insertMany([{ _id: 1 }, { _id: 2 }] as Document[]);
  return c;
}

describe('let', () => {
  it('filters a find with $$variables in $expr', async () => {
    const c = await twoDocs('find');
    expect(await c.find(byId, { let: { id: 1 } }).toArray()).toEqual([{ _id: 1 }]);
  });

  it('uses variables in the filter and in a pipeline update (updateOne, updateMany, replaceOne)', async () => {
    const c = await twoDocs('update');
    expect(await c.updateOne(byId, [{ $set: { x: '$$x' } }], { let: { id: 1, x: 'foo' } })).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await c.updateMany({ $expr: { $gte: ['$_id', '$$min'] } }, [{ $set: { y: '$$y' } }], { let: { min: 2, y: 'bar' } })).toMatchObject({ matchedCount: 1 });
    expect(await c.replaceOne(byId, { z: 1 }, { let: { id: 2 } })).toMatchObject({ matchedCount: 1 });
    expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([{ _id: 1, x: 'foo' }, { _id: 2, z: 1 }]);
  });

  it('deletes with variables (deleteOne, deleteMany)', async () => {
    const c = await twoDocs('delete');
    expect((await c.deleteOne(byId, { let: { id: 1 } })).deletedCount).toBe(1);
    expect((await c.deleteMany({ $expr: { $gt: ['$_id', '$$floor'] } }, { let: { floor: 0 } })).deletedCount).toBe(1);
    expect(await c.countDocuments()).toBe(0);
  });

  it('finds and modifies with variables', async () => {
    const c = await twoDocs('fam');
    expect(await c.findOneAndUpdate(byId, [{ $set: { x: '$$x' } }], { let: { id: 2, x: 'y' }, returnDocument: 'after' })).toEqual({ _id: 2, x: 'y' });
    expect(await c.findOneAndReplace(byId, { r: true }, { let: { id: 1 }, returnDocument: 'after' })).toEqual({ _id: 1, r: true });
    expect(await c.findOneAndDelete(byId, { let: { id: 2 } })).toEqual({ _id: 2, x: 'y' });
  });

  it('applies the command let to every bulk write statement', async () => {
    const c = await twoDocs('bulk');
    const res = await c.bulkWrite([
      { updateOne: { filter: byId, update: [{ $set: { x: '$$x' } }] } },
      { deleteMany: { filter: { $expr: { $ne: ['$_id', '$$id'] } } } },
    ], { let: { id: 1, x: 'bulk' } });
    expect(res).toMatchObject({ matchedCount: 1, modifiedCount: 1, deletedCount: 1 });
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, x: 'bulk' }]);
  });

  it('evaluates aggregate variables as expressions: $literal stays literal, $rand is a number', async () => {
    const c = await twoDocs('aggregate');
    const [doc] = await c.aggregate([
      { $match: { $expr: { $eq: ['$_id', '$$id'] } } },
      { $project: { _id: 0, x: '$$x', y: '$$y', rand: '$$rand' } },
    ], { let: { id: 1, x: 'foo', y: { $literal: '$bar' }, rand: { $rand: {} } } }).toArray();
    expect(doc).toMatchObject({ x: 'foo', y: '$bar' });
    expect(typeof doc.rand).toBe('number');
    expect(doc.rand).toBeGreaterThanOrEqual(0);
    expect(doc.rand).toBeLessThan(1);
  });

  it('writes an aggregation with let to a collection ($out)', async () => {
    const c = await twoDocs('out');
    await c.aggregate([{ $match: byId }, { $project: { _id: 1 } }, { $out: 'outLet' }], { let: { id: 1 } }).toArray();
    expect(await ctx.db.collection('outLet').find({}).toArray()).toEqual([{ _id: 1 }]);
  });
});
