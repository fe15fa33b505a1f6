/**
 * Schema validation (https://www.mongodb.com/docs/manual/core/schema-validation/): validators set by
 * create and collMod are enforced with DocumentValidationFailure (121) and errInfo, as the CRUD
 * specification test findOneAndUpdate-errorResponse checks, with validationLevel and validationAction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError, type Document } from 'mongodb';
import { openConformance, type ConformanceContext } from './support.js';

let ctx: ConformanceContext;
beforeAll(async () => { ctx = await openConformance('validation'); });
afterAll(async () => { await ctx.close(); });

/** Documents with numeric ids, as the specification tests use them. */
interface Row { _id?: number; [field: string]: unknown }

async function failure(write: Promise<unknown>): Promise<MongoServerError> {
  const err = await write.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MongoServerError);
  expect(err).toMatchObject({ code: 121 });
  return err as MongoServerError;
}

describe('validators', () => {
  it('enforces a validator set by collMod on updates, with errInfo naming the failing document', async () => {
    const c = ctx.db.collection<Row>('collMod');
    await c.insertOne({ _id: 1, x: 'a' });
    await ctx.db.command({ collMod: 'collMod', validator: { x: { $type: 'string' } } });
    const err = await failure(c.findOneAndUpdate({ _id: 1 }, { $set: { x: 1 } }));
    expect(err.errInfo).toMatchObject({ failingDocumentId: 1, details: expect.any(Object) });
    await failure(c.updateOne({ _id: 1 }, { $set: { x: 2 } }));
    await failure(c.insertOne({ _id: 2, x: 3 }));
    expect(await c.find({}).toArray()).toEqual([{ _id: 1, x: 'a' }]);
    await c.updateOne({ _id: 1 }, { $set: { x: 'b' } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, x: 'b' });
  });

  it('enforces a $jsonSchema validator given at create, and lets bypassDocumentValidation through', async () => {
    await ctx.db.createCollection('schema', {
      validator: {
        $jsonSchema: {
          bsonType: 'object',
          required: ['name', 'age'],
          properties: { name: { bsonType: 'string', minLength: 1 }, age: { bsonType: 'int', minimum: 0 }, tags: { bsonType: 'array', items: { bsonType: 'string' } } },
        },
      },
    });
    const c = ctx.db.collection<Document>('schema');
    await c.insertOne({ name: 'Ada', age: 36, tags: ['x'] });
    await failure(c.insertOne({ name: 'Bob' }));
    await failure(c.insertOne({ name: '', age: 3 }));
    await failure(c.insertOne({ name: 'Cy', age: -1 }));
    await failure(c.insertOne({ name: 'Di', age: 2, tags: [1] }));
    await c.insertOne({ name: 'Ed' }, { bypassDocumentValidation: true });
    expect((await c.find({}, { projection: { _id: 0, name: 1 } }).toArray()).map((d) => d.name)).toEqual(['Ada', 'Ed']);
  });

  it('reports every write of a batch that fails, keeping the valid ones (unordered)', async () => {
    await ctx.db.createCollection('batch', { validator: { n: { $gte: 0 } } });
    const c = ctx.db.collection<Document>('batch');
    const err = await c.insertMany([{ n: 1 }, { n: -1 }, { n: 2 }, { n: -2 }], { ordered: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 121 });
    expect((err as { writeErrors: Array<{ index: number; code: number }> }).writeErrors.map((w) => [w.index, w.code])).toEqual([[1, 121], [3, 121]]);
    expect(await c.countDocuments()).toBe(2);
  });

  it('lets already-invalid documents change under validationLevel moderate, and only warns under validationAction warn', async () => {
    const c = ctx.db.collection<Row>('levels');
    await c.insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 'ok' }]);
    await ctx.db.command({ collMod: 'levels', validator: { x: { $type: 'string' } }, validationLevel: 'moderate' });
    await c.updateOne({ _id: 1 }, { $set: { y: 1 } });
    await failure(c.updateOne({ _id: 2 }, { $set: { x: 2 } }));
    await failure(c.insertOne({ _id: 3, x: 3 }));
    await ctx.db.command({ collMod: 'levels', validationAction: 'warn' });
    await c.insertOne({ _id: 3, x: 3 });
    await ctx.db.command({ collMod: 'levels', validationLevel: 'off', validationAction: 'error' });
    await c.insertOne({ _id: 4, x: 4 });
    expect(await c.countDocuments()).toBe(4);
    const [info] = await ctx.db.listCollections({ name: 'levels' }).toArray();
    expect((info as { options: Document }).options).toMatchObject({ validator: { x: { $type: 'string' } }, validationLevel: 'off', validationAction: 'error' });
  });

  it('refuses an invalid validationLevel', async () => {
    await ctx.db.createCollection('badLevel');
    await expect(ctx.db.command({ collMod: 'badLevel', validationLevel: 'sometimes' })).rejects.toMatchObject({ code: 2 });
  });
});
