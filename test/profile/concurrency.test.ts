/**
 * Optimistic concurrency on `people` and `personFragments`: writers in different
 * processes (here: separate module instances over separate clients, so the
 * in-process queue is not shared) never overwrite a profile or a source record's
 * fragment they did not read.
 */
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode, type DomainError } from '../../lib/errors.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { createIdGenerator } from '../../lib/subgraph/ids.js';
import { PeopleRepository, ProfileVersionConflict } from '../../subgraphs/profile/people.repository.js';
import { normalisePerson } from '../../subgraphs/profile/personInput.js';
import type { Fragment, ProfileRecord } from '../../subgraphs/profile/profileView.js';
import { FragmentsRepository } from '../../subgraphs/profile/fragments.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

const now = new Date('2026-03-01T09:00:00.000Z');
const ids = createIdGenerator(() => now);
const record = (input: Parameters<typeof normalisePerson>[0]) => normalisePerson(input, now);

/** One "process": its own module instances (so its own queue) and its own client. */
async function startProcess(db: Db, retry?: { attempts: number; backoffMs: number }) {
  vi.resetModules();
  const [{ PersonWriter }, people, { FragmentsRepository }, { MergesRepository }, { SettingsRepository }] = await Promise.all([
    import('../../subgraphs/profile/personWriter.js'),
    import('../../subgraphs/profile/people.repository.js'),
    import('../../subgraphs/profile/fragments.repository.js'),
    import('../../subgraphs/profile/merges.repository.js'),
    import('../../subgraphs/profile/settings.repository.js'),
  ]);
  const repos = { people: new people.PeopleRepository(db), fragments: new FragmentsRepository(db), merges: new MergesRepository(db), settings: new SettingsRepository(db) };
  return { repos, writer: new PersonWriter(repos, { now: () => now, ids, ...(retry ? { retry } : {}) }) };
}

describe('profile writes across processes', () => {
  let clients: MongoClient[];
  let prefix: string;
  const sandbox = (client: MongoClient, name: string) => createDatabases(client, `${prefix}_`).sandbox(name);

  beforeAll(async () => {
    clients = await Promise.all([connectTestClient(), connectTestClient()]);
    prefix = uniqueName('t_occ_');
  });
  afterAll(async () => {
    await dropDatabasesWithPrefix(clients[0]!, prefix);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('concurrent records for one profile from two processes all land in it', async () => {
    const name = uniqueName('sb');
    const a = await startProcess(sandbox(clients[0]!, name));
    const b = await startProcess(sandbox(clients[1]!, name));
    const [seed] = (await a.writer.apply([record({ sourceKey: '0@seed.Marketo', workEmail: 'race@one.example' })])).results;

    const n = 20;
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 ? b : a).writer.apply([record({ sourceKey: `${i + 1}@inst.Salesforce`, workEmail: 'race@one.example', attributes: { [`k${i}`]: i } })]),
      ),
    );
    expect(new Set(outcomes.map((outcome) => outcome.results[0]!.profileId))).toEqual(new Set([seed!.profileId]));

    const docs = await sandbox(clients[0]!, name).collection('people').find().toArray();
    expect(docs).toHaveLength(1);
    const [profile] = docs;
    expect(Object.keys(profile!.attributes).sort()).toEqual(Array.from({ length: n }, (_, i) => `k${i}`).sort());
    expect(profile!.sourceKeys).toHaveLength(n + 1);
    // One version per successful write: the seed, then each record once.
    expect(profile!.version).toBe(n + 1);
  });

  it('batches in one process reaching one profile through different identities run side by side and all land', async () => {
    const name = uniqueName('sb');
    const db = sandbox(clients[0]!, name);
    const { writer } = await startProcess(db);
    const n = 12;
    const ecids = Array.from({ length: n }, (_, i) => ({ namespace: 'ECID', value: `ecid-${i}` }));
    const [seed] = (await writer.apply([record({ sourceKey: '0@seed.Marketo', workEmail: 'many@one.example', identities: ecids })])).results;

    // No two batches share a key, so the queue lets them run together; the profile's version settles who re-reads.
    const outcomes = await Promise.all(
      ecids.map((ecid, i) => writer.apply([record({ sourceKey: `${i + 1}@inst.Salesforce`, identities: [ecid], attributes: { [`k${i}`]: i } })])),
    );
    expect(new Set(outcomes.map((outcome) => outcome.results[0]!.profileId))).toEqual(new Set([seed!.profileId]));
    const docs = await db.collection('people').find().toArray();
    expect(docs).toHaveLength(1);
    expect(Object.keys(docs[0]!.attributes).sort()).toEqual(Array.from({ length: n }, (_, i) => `k${i}`).sort());
    expect(docs[0]!.sourceKeys).toHaveLength(n + 1);
    expect(docs[0]!.version).toBe(n + 1);
  });

  it('two processes sending the very same source record at once keep every field either sent', async () => {
    const name = uniqueName('sb');
    const a = await startProcess(sandbox(clients[0]!, name));
    const b = await startProcess(sandbox(clients[1]!, name));
    const sourceKey = '7@same.Marketo';
    await a.writer.apply([record({ sourceKey, workEmail: 'same@one.example' })]);

    const n = 16;
    await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? b : a).writer.apply([record({ sourceKey, attributes: { [`f${i}`]: i } })])));
    const db = sandbox(clients[0]!, name);
    const expected = Array.from({ length: n }, (_, i) => `f${i}`).sort();
    const [fragment] = await db.collection('personFragments').find().toArray();
    const paths = (fragment!.values as Array<{ path: string }>).map((field) => field.path).filter((path) => path.startsWith('attributes.'));
    expect(paths.map((path) => path.slice('attributes.'.length)).sort()).toEqual(expected);
    const [profile] = await db.collection('people').find().toArray();
    expect(Object.keys(profile!.attributes).sort()).toEqual(expected);
  });

  it('the fragment store refuses a write from a stale read and a second insert of one record, and replaces a pre-version fragment once', async () => {
    const db = sandbox(clients[0]!, uniqueName('sb'));
    const fragments = new FragmentsRepository(db);
    const fragment: Fragment = { id: 'b2b_person:1@f.Marketo', profileId: 'prof_1', identities: [], values: [], createdAt: now, updatedAt: now };
    await fragments.write([fragment]);
    const [read] = await fragments.findByIds([fragment.id]);
    expect(read!.version).toBe(1);
    await fragments.write([{ ...read!, sourceKey: '1@f.Marketo' }]);
    await expect(fragments.write([{ ...read!, sourceKey: 'stale@f.Marketo' }])).rejects.toEqual(new ProfileVersionConflict(['prof_1']));
    await expect(fragments.write([fragment])).rejects.toBeInstanceOf(ProfileVersionConflict);
    expect((await fragments.findByIds([fragment.id]))[0]).toMatchObject({ sourceKey: '1@f.Marketo', version: 2 });

    await db.collection('personFragments').insertOne({ _id: 'b2b_person:old@f.Marketo', profileId: 'prof_2', identities: [], values: [], createdAt: now, updatedAt: now } as never);
    const [legacy] = await fragments.findByIds(['b2b_person:old@f.Marketo']);
    expect(legacy!.version).toBe(0);
    await fragments.write([{ ...legacy!, profileId: 'prof_3' }]);
    await expect(fragments.write([{ ...legacy!, profileId: 'prof_4' }])).rejects.toBeInstanceOf(ProfileVersionConflict);
    expect((await fragments.findByIds(['b2b_person:old@f.Marketo']))[0]).toMatchObject({ profileId: 'prof_3', version: 1 });
  });

  it('the repository refuses a write from a stale read, a stale removal, and a second insert of one id', async () => {
    const db = sandbox(clients[0]!, uniqueName('sb'));
    const people = new PeopleRepository(db);
    const profile: ProfileRecord = {
      id: 'prof_1',
      identities: [],
      identityKeys: [],
      sourceKeys: [],
      absorbedIds: [],
      consents: {},
      createdAt: now,
      updatedAt: now,
    };
    await people.save([profile]);
    const [read] = await people.findOwnIds(['prof_1']);
    expect(read!.version).toBe(1);
    await people.save([{ ...read!, firstName: 'First' }]);
    await expect(people.save([{ ...read!, firstName: 'Stale' }])).rejects.toEqual(new ProfileVersionConflict(['prof_1']));
    await expect(people.remove([{ id: 'prof_1', version: 1 }])).rejects.toBeInstanceOf(ProfileVersionConflict);
    await expect(people.save([profile])).rejects.toBeInstanceOf(ProfileVersionConflict);
    expect((await people.findOwnIds(['prof_1']))[0]).toMatchObject({ firstName: 'First', version: 2 });
  });

  it('a profile stored before versioning reads as version 0 and is replaced once', async () => {
    const db = sandbox(clients[0]!, uniqueName('sb'));
    const people = new PeopleRepository(db);
    await db.collection('people').insertOne({ _id: 'prof_old', identities: [], identityKeys: [], sourceKeys: [], absorbedIds: [], consents: {}, createdAt: now, updatedAt: now } as never);
    const [legacy] = await people.findOwnIds(['prof_old']);
    expect(legacy!.version).toBe(0);
    await people.save([{ ...legacy!, jobTitle: 'CTO' }]);
    await expect(people.save([{ ...legacy!, jobTitle: 'Stale' }])).rejects.toBeInstanceOf(ProfileVersionConflict);
    expect((await people.findOwnIds(['prof_old']))[0]).toMatchObject({ jobTitle: 'CTO', version: 1 });
  });

  it('gives CONFLICT, asking for a retry, once every attempt lost the race', async () => {
    const name = uniqueName('sb');
    const db = sandbox(clients[0]!, name);
    const setup = await startProcess(db);
    await setup.writer.apply([record({ sourceKey: '1@inst.Marketo', workEmail: 'busy@one.example' })]);

    const { writer, repos } = await startProcess(db, { attempts: 3, backoffMs: 1 });
    let saves = 0;
    const save = repos.people.save.bind(repos.people);
    // Another writer changes the profile between every read and write of this one.
    repos.people.save = async (profiles, claims) => {
      saves++;
      await db.collection('people').updateMany({}, { $inc: { version: 1 } });
      return save(profiles, claims);
    };
    const failure = await writer.apply([record({ sourceKey: '2@inst.Marketo', workEmail: 'busy@one.example' })]).catch((error: unknown) => error);
    // The writer's own module instance of DomainError: compare by name and code.
    expect(failure).toMatchObject({ name: 'DomainError' });
    expect(failure).toMatchObject({ code: ErrorCode.Conflict, details: { attempts: 3, retryable: true } });
    expect((failure as DomainError).message).toMatch(/retry the request/);
    expect(saves).toBe(3);
  });
  it('a record sent again unchanged rewrites nothing, unless a lost race left its profile behind its fragment', async () => {
    const name = uniqueName('sb');
    const db = sandbox(clients[0]!, name);
    const { writer, repos } = await startProcess(db, { attempts: 3, backoffMs: 1 });
    const input = { sourceKey: '1@inst.Marketo', workEmail: 'same@one.example', firstName: 'Ada' };
    const [first] = (await writer.apply([record(input)])).results;
    const stored = async () => ({
      people: await db.collection('people').find().toArray(),
      fragments: await db.collection('personFragments').find().toArray(),
    });
    const before = await stored();

    const [again] = (await writer.apply([record(input)])).results;
    expect(again).toEqual({ status: 'UPDATED', profileId: first!.profileId });
    expect(await stored()).toEqual(before);

    // The first attempt stores the fragment, then loses the profile to another writer; the retry finds the
    // record already in the fragment but not in the profile, and writes the profile.
    let saves = 0;
    const save = repos.people.save.bind(repos.people);
    repos.people.save = async (profiles, claims) => {
      if (saves++ === 0) await db.collection('people').updateMany({}, { $inc: { version: 1 } });
      return save(profiles, claims);
    };
    await writer.apply([record({ ...input, firstName: 'Grace' })]);
    expect(saves).toBe(2);
    expect(await db.collection('people').findOne({ _id: first!.profileId } as never)).toMatchObject({ firstName: 'Grace', version: 3 });
  });
});
