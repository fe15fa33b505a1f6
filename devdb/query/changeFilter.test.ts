import { describe, expect, it } from 'vitest';
import { changePrefilter, type ChangeFields } from './changeFilter.js';

const insert = (coll: string | undefined, db = 'app'): ChangeFields => ({ db, coll, operationType: 'insert' });

describe('changePrefilter', () => {
  it('rules out the namespaces and operations a leading $match names, and nothing else', () => {
    const pass = changePrefilter([{ $match: { 'ns.coll': { $in: ['a', 'b'] }, operationType: { $eq: 'insert' }, 'fullDocument.x': 1 } }]);
    expect(pass(insert('a'))).toBe(true);
    expect(pass(insert('c'))).toBe(false);
    expect(pass({ db: 'app', coll: 'a', operationType: 'delete' })).toBe(false);
    // A dropDatabase event has no collection: an equality on ns.coll cannot hold.
    expect(pass({ db: 'app', coll: undefined, operationType: 'insert' })).toBe(false);
  });

  it('passes everything an $or branch it cannot read might keep', () => {
    const pass = changePrefilter([{ $match: { $or: [{ 'ns.coll': 'a' }, { 'fullDocument.status': 'x' }] } }]);
    expect(pass(insert('zzz'))).toBe(true);
  });

  it('reads $and and $or together', () => {
    const pass = changePrefilter([{ $match: { $and: [{ 'ns.db': 'app' }, { $or: [{ 'ns.coll': 'a' }, { operationType: 'delete' }] }] } }]);
    expect(pass(insert('a'))).toBe(true);
    expect(pass({ db: 'app', coll: 'b', operationType: 'delete' })).toBe(true);
    expect(pass(insert('b'))).toBe(false);
    expect(pass(insert('a', 'other'))).toBe(false);
  });

  it('leaves to the pipeline what it does not understand, and anything after another first stage', () => {
    expect(changePrefilter([{ $match: { 'ns.coll': { $regex: '^a' } } }])(insert('zzz'))).toBe(true);
    expect(changePrefilter([{ $match: { 'ns.coll': { $in: ['a', null] } } }])(insert('zzz'))).toBe(true);
    expect(changePrefilter([{ $match: { 'ns.coll': { $ne: 'a' } } }])(insert('a'))).toBe(true);
    expect(changePrefilter([{ $project: { ns: 1 } }, { $match: { 'ns.coll': 'a' } }])(insert('zzz'))).toBe(true);
    expect(changePrefilter([])(insert('zzz'))).toBe(true);
  });
});
