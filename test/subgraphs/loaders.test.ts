import type { CommandStartedEvent, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases } from '../../lib/mongo/databases.js';
import { createByIdLoader, createGroupLoader } from '../../lib/subgraph/loaders.js';
import { CurrentViews } from '../../subgraphs/profile/currentViews.js';
import { FragmentsRepository } from '../../subgraphs/profile/fragments.repository.js';
import { createProfileLoaders } from '../../subgraphs/profile/loaders.js';
import { PeopleRepository } from '../../subgraphs/profile/people.repository.js';
import { SettingsRepository } from '../../subgraphs/profile/settings.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

describe('createByIdLoader', () => {
  it('batches keys into one fetch and answers in key order with null for misses', async () => {
    const calls: string[][] = [];
    const loader = createByIdLoader(
      async (ids: readonly string[]) => {
        calls.push([...ids]);
        // Out of order, with one id missing, as a database may answer.
        return ids.filter((id) => id !== 'b').reverse().map((id) => ({ id, label: id.toUpperCase() }));
      },
      (item) => item.id,
    );
    const results = await Promise.all(['c', 'a', 'b', 'a'].map((id) => loader.load(id)));
    expect(results).toEqual([{ id: 'c', label: 'C' }, { id: 'a', label: 'A' }, null, { id: 'a', label: 'A' }]);
    expect(calls).toEqual([['c', 'a', 'b']]);
  });
});

describe('createGroupLoader', () => {
  it('answers every key with its items, in key order, empty for misses', async () => {
    let fetches = 0;
    const loader = createGroupLoader(
      async (keys: readonly string[]) => {
        fetches++;
        return [
          { owner: 'y', n: 1 },
          { owner: 'x', n: 2 },
          { owner: 'y', n: 3 },
        ].filter((item) => keys.includes(item.owner));
      },
      (item) => item.owner,
    );
    const results = await Promise.all(['x', 'y', 'z'].map((key) => loader.load(key)));
    expect(results).toEqual([[{ owner: 'x', n: 2 }], [{ owner: 'y', n: 1 }, { owner: 'y', n: 3 }], []]);
    expect(fetches).toBe(1);
  });
});

describe('profile loaders against MongoDB', () => {
  let client: MongoClient;
  let prefix: string;
  const commands: CommandStartedEvent[] = [];

  beforeAll(async () => {
    client = await connectTestClient({ monitorCommands: true });
    client.on('commandStarted', (event) => commands.push(event));
    prefix = uniqueName('t_ldr_');
  });
  afterAll(async () => {
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  it('loads a batch of profiles with one $in query, in key order, a merged-away id finding its survivor', async () => {
    const db = createDatabases(client, `${prefix}_`).sandbox('loaders');
    const people = new PeopleRepository(db);
    const at = new Date('2026-01-01T00:00:00Z');
    const profile = (id: string, absorbedIds: string[] = []) => ({
      id,
      identities: [{ namespace: 'ECID', value: id }],
      identityKeys: [`ECID:${id}`],
      sourceKeys: [],
      absorbedIds,
      consents: {},
      firstName: id,
      createdAt: at,
      updatedAt: at,
    });
    await people.write([profile('prof_1'), profile('prof_2', ['prof_old']), profile('prof_3')], []);
    const loaders = createProfileLoaders(people, new CurrentViews({ settings: new SettingsRepository(db), fragments: new FragmentsRepository(db) }));
    commands.length = 0;
    const keys = ['prof_3', 'prof_missing', 'prof_1', 'prof_old', 'prof_2'];
    const results = await Promise.all(keys.map((id) => loaders.profileById.load(id)));
    expect(results.map((r) => r?.firstName ?? null)).toEqual(['prof_3', null, 'prof_1', 'prof_2', 'prof_2']);
    // One query for the profiles (the merge policy, read beside it, is one small read per request).
    const finds = commands.filter((c) => c.commandName === 'find' && c.command.find === 'people');
    expect(finds).toHaveLength(1);
    expect(finds[0].command.filter).toEqual({ $or: [{ _id: { $in: keys } }, { absorbedIds: { $in: keys } }] });
  });
});
