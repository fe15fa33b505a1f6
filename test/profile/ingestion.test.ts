/** upsertPeople and ingestEvents: per-record results, idempotency, bad input, events following merges, pagination, speed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandStartedEvent } from 'mongodb';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { gql } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';
import { uniqueName } from '../support/mongo.js';
import { INGEST, startProfileSuite, UPSERT, type ProfileSuite } from './support.js';

let p: ProfileSuite;
beforeAll(async () => {
  p = await startProfileSuite();
});
afterAll(async () => {
  await p?.stop();
});

const EVENTS = `query($id: ID!, $type: String, $since: DateTime, $first: Int, $after: String) {
  profile(id: $id) { id events(type: $type, since: $since, first: $first, after: $after) {
    edges { cursor node { type timestamp url campaign sourceKey identity { namespace value } attributes } }
    pageInfo { hasNextPage endCursor } } } }`;

const eventTypes = async (sb: string, id: string, args: Record<string, unknown> = {}) =>
  (await p.gql(sb, EVENTS, { id, ...args })).profile.events.edges.map((e: any) => e.node.type);

describe('upsertPeople', () => {
  it('stores the whole person model', async () => {
    const sb = p.sandbox();
    const [result] = await p.upsert(sb, [
      {
        sourceKey: '00Q1@00D5e000001XyZ.Salesforce',
        firstName: 'Ada',
        lastName: 'Lovelace',
        jobTitle: 'VP Engineering',
        workEmail: 'ada@engines.example',
        phone: '+44 20 0000',
        country: 'GB',
        leadScore: 87.5,
        leadStatus: 'MQL',
        consents: { marketingEmail: 'N' },
        attributes: { segment: 'enterprise', tags: ['a', 'b'] },
      },
    ]);
    expect(result).toMatchObject({
      status: 'CREATED',
      error: null,
      profile: { firstName: 'Ada', leadScore: 87.5, consents: { marketingEmail: 'n' }, attributes: { segment: 'enterprise', tags: ['a', 'b'] } },
    });
    const doc = await p.suite.databases.sandbox(sb).collection('people').findOne({ _id: result.profile.id } as never);
    expect(doc).toMatchObject({ phone: '+44 20 0000', country: 'GB', leadStatus: 'MQL', consents: { marketingEmail: 'n' } });
  });

  it('is idempotent on the source key', async () => {
    const sb = p.sandbox();
    const record = { sourceKey: '77@123-ABC-456.Marketo', firstName: 'Grace', workEmail: 'grace@navy.example' };
    const [first] = await p.upsert(sb, [record]);
    const [again] = await p.upsert(sb, [record]);
    const [partial] = await p.upsert(sb, [{ sourceKey: '77@123-ABC-456.Marketo', jobTitle: 'Admiral' }]);
    expect([first.status, again.status, partial.status]).toEqual(['CREATED', 'UPDATED', 'UPDATED']);
    expect(partial.profile).toMatchObject({ id: first.profile.id, firstName: 'Grace', jobTitle: 'Admiral', workEmail: 'grace@navy.example' });
    const db = p.suite.databases.sandbox(sb);
    expect(await db.collection('people').countDocuments()).toBe(1);
    expect(await db.collection('personFragments').countDocuments()).toBe(1);
  });

  it('records in one call join and merge in order', async () => {
    const sb = p.sandbox();
    const results = await p.upsert(sb, [
      { sourceKey: '1@123-ABC-456.Marketo', workEmail: 'one@batch.example' },
      { sourceKey: '1@00D5e000001XyZ.Salesforce', workEmail: 'one@batch.example' },
      { sourceKey: '2@123-ABC-456.Marketo', identities: [{ namespace: 'ECID', value: 'e2' }] },
      { identities: [{ namespace: 'ECID', value: 'e2' }, { namespace: 'Email', value: 'one@batch.example' }] },
    ]);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'UPDATED', 'CREATED', 'MERGED']);
    // Every result shows the profile as it stands after the call.
    expect(new Set(results.map((r) => r.profile.id)).size).toBe(1);
    expect(results[0].profile.sourceKeys).toHaveLength(3);
  });

  it('rejects bad records one by one and writes nothing for them', async () => {
    const sb = p.sandbox();
    const results = await p.upsert(sb, [
      { sourceKey: 'bad1@123-ABC-456.Marketo', workEmail: 'not-an-email' },
      { sourceKey: 'no-instance', firstName: 'X' },
      { workEmail: 'ok@good.example', identities: [{ namespace: 'MarketoLead', value: '1' }] },
      { workEmail: 'ok@good.example', attributes: { $where: 'sleep(1000)' } },
      { workEmail: 'ok@good.example', attributes: { 'a.b': 1 } },
      { workEmail: 'ok@good.example', attributes: 'not an object' },
      { workEmail: 'ok@good.example', consents: { marketingEmail: 'maybe' } },
      { identities: [{ namespace: 'b2b_person', value: 'not a source key' }] },
      { identities: [{ namespace: 'b2b_account', value: '1@org.Salesforce' }] },
      { firstName: 'Nobody' },
      { workEmail: 'ok@good.example', firstName: 'Kept' },
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(10).fill('REJECTED'), 'CREATED']);
    expect(results.map((r) => r.index)).toEqual([...Array(11).keys()]);
    expect(results.slice(0, 10).map((r) => r.error.code)).toEqual(Array(10).fill('BAD_USER_INPUT'));
    expect(results.slice(0, 10).map((r) => r.error.field)).toEqual([
      'workEmail',
      'sourceKey',
      'identities.namespace',
      'attributes',
      'attributes',
      'attributes',
      'consents.marketingEmail',
      'identities.value',
      'identities.namespace',
      'identities',
    ]);
    expect(results[3].error.message).toMatch(/\$where/);
    expect(results.slice(0, 10).map((r) => r.profile)).toEqual(new Array(10).fill(null));
    const db = p.suite.databases.sandbox(sb);
    expect(await db.collection('people').countDocuments()).toBe(1);
    expect(await db.collection('personFragments').countDocuments()).toBe(1);
    expect(await p.gql(sb, `{ profileByIdentity(namespace: "b2b_person", value: "bad1@123-ABC-456.Marketo") { id } }`)).toEqual({ profileByIdentity: null });
  });

  it('refuses more than 1000 records, and needs the editor role', async () => {
    const sb = p.sandbox();
    const tooMany = await p.post(sb, `mutation($people: [PersonInput!]!) { upsertPeople(people: $people) { status } }`, {
      people: Array.from({ length: 1001 }, (_, i) => ({ workEmail: `p${i}@x.example` })),
    });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const { postGraphQL } = await import('../subgraphs/support/graphql.js');
    const viewer = await postGraphQL(p.suite.url, `mutation { upsertPeople(people: [{ workEmail: "v@x.example" }]) { status } }`, {}, { sandbox: sb, role: 'viewer' });
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('ingestEvents', () => {
  it('is idempotent on the event source key, and an unknown identity creates a profile holding it', async () => {
    const sb = p.sandbox();
    const event = { sourceKey: 'act-1@123-ABC-456.Marketo', identity: { namespace: 'ECID', value: 'anon-1' }, type: 'web.pageView', timestamp: '2026-02-01T10:00:00Z', url: 'https://x.example/pricing' };
    const [created] = await p.ingest(sb, [event]);
    expect(created).toMatchObject({ status: 'CREATED', error: null });
    const [again] = await p.ingest(sb, [{ ...event, url: 'https://x.example/pricing?x=1' }]);
    expect(again).toMatchObject({ status: 'UPDATED', profileId: created.profileId });
    const profile = await p.profile(sb, created.profileId);
    expect(profile.identities).toEqual([{ namespace: 'ECID', value: 'anon-1' }]);
    const { profile: withEvents } = await p.gql(sb, EVENTS, { id: created.profileId });
    expect(withEvents.events.edges.map((e: any) => e.node)).toEqual([
      { type: 'web.pageView', timestamp: '2026-02-01T10:00:00.000Z', url: 'https://x.example/pricing?x=1', campaign: null, sourceKey: 'act-1@123-ABC-456.Marketo', identity: { namespace: 'ECID', value: 'anon-1' }, attributes: null },
    ]);
    // Without a source key the same content is the same event.
    const plain = { identity: { namespace: 'Email', value: 'Who@x.example' }, type: 'email.open', timestamp: '2026-02-02T00:00:00Z', campaign: 'spring' };
    const [p1] = await p.ingest(sb, [plain]);
    const [p2] = await p.ingest(sb, [plain]);
    expect([p1.status, p2.status]).toEqual(['CREATED', 'UPDATED']);
    expect(await p.suite.databases.sandbox(sb).collection('events').countDocuments()).toBe(2);
    // A person record with that email later joins the profile the event created.
    const [person] = await p.upsert(sb, [{ sourceKey: '9@123-ABC-456.Marketo', workEmail: 'who@x.example', firstName: 'Who' }]);
    expect(person).toMatchObject({ status: 'UPDATED', profile: { id: p1.profileId } });
  });

  it('events follow merges and unmerges', async () => {
    const sb = p.sandbox();
    const [a] = await p.upsert(sb, [{ sourceKey: 'a@123-ABC-456.Marketo', workEmail: 'a@follow.example' }]);
    p.clock.advance(1000);
    const [b] = await p.upsert(sb, [{ identities: [{ namespace: 'ECID', value: 'follow-b' }] }]);
    await p.ingest(sb, [
      { identity: { namespace: 'Email', value: 'a@follow.example' }, type: 'email.open', timestamp: '2026-02-01T00:00:00Z' },
      { identity: { namespace: 'ECID', value: 'follow-b' }, type: 'web.pageView', timestamp: '2026-02-02T00:00:00Z' },
      { identity: { namespace: 'b2b_person', value: 'a@123-ABC-456.Marketo' }, type: 'form.submit', timestamp: '2026-02-03T00:00:00Z' },
    ]);
    expect(await eventTypes(sb, a.profile.id)).toEqual(['form.submit', 'email.open']);
    await p.upsert(sb, [{ identities: [{ namespace: 'ECID', value: 'follow-b' }, { namespace: 'Email', value: 'a@follow.example' }] }]);
    expect(await eventTypes(sb, b.profile.id)).toEqual(['form.submit', 'web.pageView', 'email.open']);
    await p.gql(sb, `mutation($id: ID!) { unmergeProfile(id: $id) { id } }`, { id: a.profile.id });
    expect(await eventTypes(sb, a.profile.id)).toEqual(['form.submit', 'email.open']);
    expect(await eventTypes(sb, b.profile.id)).toEqual(['web.pageView']);
  });

  it('pages events newest first, filtered by type and time', async () => {
    const sb = p.sandbox();
    const identity = { namespace: 'ECID', value: 'pager' };
    const results = await p.ingest(
      sb,
      Array.from({ length: 7 }, (_, i) => ({ identity, type: i % 2 ? 'email.open' : 'web.pageView', timestamp: `2026-02-0${i + 1}T00:00:00Z`, url: `https://x.example/${i}` })),
    );
    const id = results[0].profileId;
    const urls: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const { profile }: any = await p.gql(sb, EVENTS, { id, first: 3, after });
      urls.push(...profile.events.edges.map((e: any) => e.node.url));
      after = profile.events.pageInfo.endCursor;
      if (!profile.events.pageInfo.hasNextPage) break;
    }
    expect(urls).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `https://x.example/${i}`));
    expect(await eventTypes(sb, id, { type: 'email.open' })).toEqual(['email.open', 'email.open', 'email.open']);
    expect((await eventTypes(sb, id, { since: '2026-02-06' })).length).toBe(2);
    const bad = await p.post(sb, EVENTS, { id, after: 'garbage' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('rejects bad events one by one', async () => {
    const sb = p.sandbox();
    const ok = { identity: { namespace: 'ECID', value: 'x' }, type: 'web.pageView', timestamp: '2026-02-01T00:00:00Z' };
    const results = await p.ingest(sb, [
      { ...ok, identity: { namespace: 'Email', value: 'nope' } },
      { ...ok, identity: { namespace: 'Fax', value: '1' } },
      { ...ok, type: '$where' },
      { ...ok, sourceKey: 'nokey' },
      { ...ok, attributes: { 'x.y': 1 } },
      ok,
    ]);
    expect(results.map((r) => r.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'CREATED']);
    expect(results.map((r) => r.error?.field ?? null)).toEqual(['identity.value', 'identity.namespace', 'type', 'sourceKey', 'attributes', null]);
    expect(await p.suite.databases.sandbox(sb).collection('events').countDocuments()).toBe(1);
    expect(await p.suite.databases.sandbox(sb).collection('people').countDocuments()).toBe(1);
  });
});

describe('profiles connection', () => {
  it('pages through every profile once, in creation order', async () => {
    const sb = p.sandbox();
    const created = await p.upsert(sb, Array.from({ length: 12 }, (_, i) => ({ workEmail: `c${i}@page.example` })));
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { profiles }: any = await p.gql(sb, `query($after: String) { profiles(first: 5, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, { after });
      ids.push(...profiles.edges.map((e: any) => e.node.id));
      if (!profiles.pageInfo.hasNextPage) break;
      after = profiles.pageInfo.endCursor;
    }
    expect(ids).toEqual(created.map((r) => r.profile.id).sort());
    const tooBig = await p.post(sb, `{ profiles(first: 501) { edges { node { id } } } }`);
    expect(tooBig.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('batches', () => {
  // A batch costs the database a few round trips whatever its size; per-record queries would cost
  // thousands for 1000 records. Speed itself is measured by `npm run bench -- ingest`.
  let suite: SubgraphSuite;
  const commands: string[] = [];
  const DATA_COMMANDS = new Set(['find', 'aggregate', 'insert', 'update', 'delete', 'findAndModify', 'count', 'distinct', 'bulkWrite']);
  beforeAll(async () => {
    suite = await startSubgraphSuite(startProfileSubgraph, { clientOptions: { monitorCommands: true } });
    suite.client.on('commandStarted', (event: CommandStartedEvent) => {
      if (DATA_COMMANDS.has(event.commandName) && !JSON.stringify(event.command.pipeline ?? []).includes('$changeStream')) commands.push(event.commandName);
    });
  });
  afterAll(async () => {
    await suite?.stop();
  });

  async function commandsDuring<T>(action: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
    const from = commands.length;
    const result = await action();
    return { result, commands: commands.slice(from) };
  }
  const statuses = (results: Array<{ status: string }>) => results.map((r) => r.status);

  it('upserts 1000 people and ingests 1000 events per call in a bounded number of database commands', async () => {
    const sandbox = uniqueName('p');
    const call = async (query: string, variables: Record<string, unknown>) => gql<any>(suite.url, query, variables, { sandbox });
    const people = (count: number, offset = 0) =>
      Array.from({ length: count }, (_, i) => ({
        sourceKey: `${offset + i}@123-ABC-456.Marketo`,
        firstName: `First ${offset + i}`,
        lastName: 'Batch',
        workEmail: `batch${offset + i}@fast.example`,
        leadScore: i,
        attributes: { tier: i % 3 },
      }));
    const small = await commandsDuring(async () => (await call(UPSERT, { people: people(10, 5000) })).upsertPeople);
    expect(statuses(small.result)).toEqual(new Array(10).fill('CREATED'));

    const created = await commandsDuring(async () => (await call(UPSERT, { people: people(1000) })).upsertPeople);
    expect(statuses(created.result)).toEqual(new Array(1000).fill('CREATED'));
    const updated = await commandsDuring(async () => (await call(UPSERT, { people: people(1000).map((person) => ({ ...person, lastName: 'Updated' })) })).upsertPeople);
    expect(statuses(updated.result)).toEqual(new Array(1000).fill('UPDATED'));

    const events = Array.from({ length: 1000 }, (_, i) => ({
      sourceKey: `a${i}@123-ABC-456.Marketo`,
      identity: { namespace: 'b2b_person', value: `${i}@123-ABC-456.Marketo` },
      type: 'web.pageView',
      timestamp: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString(),
      url: `https://fast.example/${i}`,
    }));
    const ingested = await commandsDuring(async () => (await call(INGEST, { events })).ingestEvents);
    expect(statuses(ingested.result)).toEqual(new Array(1000).fill('CREATED'));

    // Measured: 10 people cost 7 commands (the first call also reads settings), 1000 people 5, 1000 updates 6, 1000 events 2.
    for (const batch of [created, updated, ingested]) expect(batch.commands.length).toBeLessThanOrEqual(20);
  });
});
