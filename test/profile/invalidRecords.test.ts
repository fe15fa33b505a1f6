/**
 * Records MongoDB would refuse are rejected alone, with a code, and the rest of the call is
 * written: keys holding a NUL character (or starting with "$", or holding "."), and records
 * that would make a stored document larger than MongoDB's 16 MB (here with a smaller limit).
 */
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdGenerator } from '../../lib/subgraph/ids.js';
import { FragmentsRepository } from '../../subgraphs/profile/fragments.repository.js';
import { MergesRepository } from '../../subgraphs/profile/merges.repository.js';
import { PeopleRepository } from '../../subgraphs/profile/people.repository.js';
import { normalisePerson } from '../../subgraphs/profile/personInput.js';
import { PersonWriter } from '../../subgraphs/profile/personWriter.js';
import { SettingsRepository } from '../../subgraphs/profile/settings.repository.js';
import { startProfileSuite, type ProfileSuite } from './support.js';

let p: ProfileSuite;
beforeAll(async () => {
  p = await startProfileSuite();
});
afterAll(async () => {
  await p?.stop();
});

const now = new Date('2026-03-01T00:00:00Z');
const record = (input: Record<string, unknown>) => normalisePerson(input as never, now);

/** A writer whose stored documents may hold `maxDocumentBytes` (MongoDB's 16 MB would take minutes to fill here). */
function writerFor(db: Db, maxDocumentBytes: number): PersonWriter {
  const repos = { people: new PeopleRepository(db), fragments: new FragmentsRepository(db), merges: new MergesRepository(db), settings: new SettingsRepository(db) };
  return new PersonWriter(repos, { now: () => now, ids: createIdGenerator(() => now), maxDocumentBytes });
}

describe('records the database would refuse', () => {
  it('upsertPeople rejects a record with a NUL, "$" or "." in an attribute key alone, and writes the others', async () => {
    const sb = p.sandbox();
    const results = await p.upsert(sb, [
      { sourceKey: '1@123-ABC-456.Marketo', firstName: 'Kept', attributes: { tier: 'gold' } },
      { sourceKey: '2@123-ABC-456.Marketo', firstName: 'Nul', attributes: { 'bad\u0000key': 1 } },
      { sourceKey: '3@123-ABC-456.Marketo', firstName: 'Deep', attributes: { nested: { list: [{ 'x\u0000': true }] } } },
      { sourceKey: '4@123-ABC-456.Marketo', firstName: 'Dollar', attributes: { nested: { $where: 1 } } },
      { sourceKey: '5@123-ABC-456.Marketo', firstName: 'Dot', attributes: { 'a.b': 1 } },
      { sourceKey: '6@123-ABC-456.Marketo', firstName: 'Also kept', attributes: { 'nul in a value is fine': 'a\u0000b' } },
    ]);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'CREATED']);
    for (const rejected of results.slice(1, 5)) expect(rejected.error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attributes' });
    expect(results[1].error.message).toMatch(/NUL character/);
    expect(results[2].error.message).toMatch(/at \$\.nested\.list\[0\] holds a NUL character/);
    expect(results[5].profile.attributes).toEqual({ 'nul in a value is fine': 'a\u0000b' });
    const stored = await p.suite.databases.sandbox(sb).collection('people').find({}, { projection: { firstName: 1 } }).toArray();
    expect(stored.map((doc) => doc.firstName).sort()).toEqual(['Also kept', 'Kept']);
  });

  it('ingestEvents rejects an event with a NUL in an attribute key alone', async () => {
    const sb = p.sandbox();
    const identity = { namespace: 'Email', value: 'events@nul.example' };
    const results = await p.ingest(sb, [
      { identity, type: 'web.pageView', timestamp: '2026-02-01T00:00:00Z', attributes: { ok: 1 } },
      { identity, type: 'web.pageView', timestamp: '2026-02-02T00:00:00Z', attributes: { 'k\u0000': 1 } },
    ]);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'REJECTED']);
    expect(results[1].error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attributes' });
    expect(await p.suite.databases.sandbox(sb).collection('events').countDocuments()).toBe(1);
  });

  it('a record that would make its source record larger than a stored document may be is rejected alone (LIMIT_EXCEEDED)', async () => {
    const db = p.suite.databases.sandbox(p.sandbox());
    const writer = writerFor(db, 100_000);
    const grown = await writer.apply([
      record({ sourceKey: 'big@inst.Marketo', attributes: { a: 'x'.repeat(60_000) } }),
      record({ sourceKey: 'big@inst.Marketo', attributes: { b: 'y'.repeat(60_000) } }),
      record({ sourceKey: 'small@inst.Marketo', firstName: 'Small' }),
    ]);
    expect(grown.results.map((r) => r.status)).toEqual(['REJECTED', 'REJECTED', 'CREATED']);
    expect(grown.results[0]!.error).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'attributes' });
    expect(grown.results[0]!.error!.message).toMatch(/more than the 100000 bytes a stored document may hold/);
    // Alone, each fits.
    const apart = await writer.apply([record({ sourceKey: 'big@inst.Marketo', attributes: { a: 'x'.repeat(60_000) } })]);
    expect(apart.results[0]).toMatchObject({ status: 'CREATED' });
    expect(await db.collection('people').countDocuments()).toBe(2);
  });

  it('a profile a merge would make too large refuses the records landing in it, and the batch writes the rest', async () => {
    const db = p.suite.databases.sandbox(p.sandbox());
    const writer = writerFor(db, 100_000);
    const first = await writer.apply([
      record({ sourceKey: 'a@inst.Marketo', workEmail: 'a@big.example', attributes: { a: 'x'.repeat(40_000) } }),
      record({ sourceKey: 'b@inst.Marketo', workEmail: 'b@big.example', attributes: { b: 'y'.repeat(40_000) } }),
    ]);
    expect(first.results.map((r) => r.status)).toEqual(['CREATED', 'CREATED']);
    const second = await writer.apply([
      record({ sourceKey: 'c@inst.Marketo', workEmail: 'c@big.example', firstName: 'Unrelated' }),
      // Bridges a and b: the merged profile would hold both 40 KB values and more.
      record({ sourceKey: 'ab@inst.Salesforce', identities: [{ namespace: 'Email', value: 'a@big.example' }, { namespace: 'Email', value: 'b@big.example' }], attributes: { ab: 'z'.repeat(30_000) } }),
    ]);
    expect(second.results[0]).toMatchObject({ status: 'CREATED' });
    expect(second.results[1]).toMatchObject({ status: 'REJECTED', profileId: null, error: { code: 'LIMIT_EXCEEDED', field: 'attributes' } });
    expect(await db.collection('people').countDocuments()).toBe(3);
    expect(await db.collection('profileMerges').countDocuments()).toBe(0);
  });
});
