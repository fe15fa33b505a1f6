/**
 * devdb's rule (README): what it does not implement it refuses with InvalidOptions (72) and a message
 * naming the feature; it never accepts and ignores. These are devdb's own answers (a real mongod
 * implements most of these), so they live here rather than in the conformance suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { startDevDb, type DevDb } from './index.js';

let devdb: DevDb;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  devdb = await startDevDb({ logger: () => undefined });
  client = new MongoClient(devdb.uri);
  await client.connect();
  db = client.db('refusals');
  await db.collection('c').insertOne({ a: 'x', n: 1 });
});
afterAll(async () => {
  await client.close();
  await devdb.stop();
});

const refusals: Array<[feature: string, run: () => Promise<unknown>, named: RegExp]> = [
  ['views', () => db.createCollection('v', { viewOn: 'c', pipeline: [] }), /views/],
  ['time series', () => db.createCollection('ts', { timeseries: { timeField: 't' } }), /time series/],
  ['a collection default collation', () => db.createCollection('coll', { collation: { locale: 'en' } }), /default collation/],
  ['pre- and post-images', () => db.createCollection('img', { changeStreamPreAndPostImages: { enabled: true } }), /pre- and post-images/],
  ['fullDocumentBeforeChange', () => db.collection('c').watch([], { fullDocumentBeforeChange: 'required' }).tryNext(), /pre-images/],
  ['fullDocument required', () => db.collection('c').watch([], { fullDocument: 'required' }).tryNext(), /post-images/],
  ['showExpandedEvents', () => db.collection('c').watch([], { showExpandedEvents: true }).tryNext(), /expanded/],
  ['$text', () => db.collection('c').findOne({ $text: { $search: 'x' } }), /\$text/],
  ['$near', () => db.collection('c').findOne({ loc: { $near: [0, 0] } }), /geospatial/],
  ['$where', () => db.collection('c').findOne({ $where: 'true' }), /JavaScript/],
  ['$function', () => db.collection('c').aggregate([{ $addFields: { f: { $function: { body: 'function() { return 1 }', args: [], lang: 'js' } } } }]).toArray(), /JavaScript/],
  ['$jsonSchema in a query', () => db.collection('c').findOne({ $jsonSchema: { required: ['a'] } }), /\$jsonSchema/],
  ['wildcard indexes', () => db.collection('c').createIndex({ '$**': 1 }), /wildcard/],
  ['collation strength 4', () => db.collection('c').findOne({ a: 'x' }, { collation: { locale: 'en', strength: 4 } }), /strength/],
  ['collation caseFirst', () => db.collection('c').findOne({ a: 'x' }, { collation: { locale: 'en', caseFirst: 'upper' } }), /caseFirst/],
  ['collation with $group', () => db.collection('c').aggregate([{ $group: { _id: '$a' } }], { collation: { locale: 'en', strength: 2 } }).toArray(), /\$group/],
  ['collation with $addToSet', () => db.collection('c').updateOne({ a: 'x' }, { $addToSet: { tags: 'T' } }, { collation: { locale: 'en', strength: 2 } }), /\$addToSet/],
  ['find min', () => db.collection('c').find({}).min({ n: 0 }).toArray(), /min/],
  ['collMod unique', () => db.command({ collMod: 'c', index: { keyPattern: { _id: 1 }, unique: true } }), /unique/],
];

describe('refusals', () => {
  it.each(refusals)('refuses %s with InvalidOptions, naming it', async (_feature, run, named) => {
    const err = await run().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 72 });
    expect((err as Error).message).toMatch(/^devdb does not support /);
    expect((err as Error).message).toMatch(named);
  });

  it('accepts collation options stated at MongoDB’s defaults', async () => {
    const collation = { locale: 'en', strength: 2, caseLevel: false, caseFirst: 'off', alternate: 'non-ignorable', backwards: false, normalization: false } as const;
    expect(await db.collection('c').countDocuments({ a: 'X' }, { collation })).toBe(1);
  });
});
