/** People, events and merges end to end through the gateway, and the profile subgraph's batching under it. */
import type { CommandStartedEvent, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let platform: TestPlatform;
let profileClient: MongoClient;
const finds: CommandStartedEvent[] = [];
const sandbox = uniqueName('prof-');

beforeAll(async () => {
  profileClient = await connectTestClient({ monitorCommands: true });
  profileClient.on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'find' && event.command.find === 'people') finds.push(event);
  });
  platform = await startTestPlatform({ clientFor: (subgraph) => (subgraph === 'profile' ? profileClient : undefined) });
});

afterAll(async () => {
  await platform?.stop();
  await profileClient?.close();
});

const ok = async (query: string, variables: Record<string, unknown> = {}, role: 'viewer' | 'editor' | 'admin' = 'editor') => {
  const result = await platform.query(query, variables, { sandbox, role });
  expect(result.errors).toBeUndefined();
  return result.data;
};

describe('profiles through the gateway', () => {
  it('creates people and events, and reads a profile with its events', async () => {
    const { upsertPeople } = await ok(
      `mutation($people: [PersonInput!]!) { upsertPeople(people: $people) { index status profile { id } error { code message field } } }`,
      {
        people: [
          { sourceKey: '1001@123-ABC-456.Marketo', firstName: 'Ada', workEmail: 'ada@gw.example', consents: { marketingEmail: 'y' } },
          { sourceKey: '0031@00D5e000001XyZ.Salesforce', lastName: 'Lovelace', workEmail: 'ADA@gw.example' },
          { sourceKey: 'bad', firstName: 'Nobody' },
        ],
      },
    );
    expect(upsertPeople.map((r: any) => r.status)).toEqual(['CREATED', 'UPDATED', 'REJECTED']);
    expect(upsertPeople[2].error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sourceKey' });
    const id = upsertPeople[0].profile.id;

    const { ingestEvents } = await ok(`mutation($events: [EventInput!]!) { ingestEvents(events: $events) { status profileId } }`, {
      events: [
        { sourceKey: 'a1@123-ABC-456.Marketo', identity: { namespace: 'b2b_person', value: '1001@123-ABC-456.Marketo' }, type: 'email.open', timestamp: '2026-02-01T10:00:00Z' },
        { identity: { namespace: 'Email', value: 'ada@gw.example' }, type: 'web.pageView', timestamp: '2026-02-02T10:00:00Z', url: 'https://gw.example/pricing' },
      ],
    });
    expect(ingestEvents).toEqual([{ status: 'CREATED', profileId: id }, { status: 'CREATED', profileId: id }]);

    const { profile } = await ok(
      `query($id: ID!) { profile(id: $id) { firstName lastName consents { marketingEmail } sourceKeys events { edges { node { type } } } } }`,
      { id },
      'viewer',
    );
    expect(profile).toEqual({
      firstName: 'Ada',
      lastName: 'Lovelace',
      consents: { marketingEmail: 'y' },
      sourceKeys: expect.arrayContaining(['1001@123-ABC-456.Marketo', '0031@00D5e000001XyZ.Salesforce']),
      events: { edges: [{ node: { type: 'web.pageView' } }, { node: { type: 'email.open' } }] },
    });
  });

  it('merges, unmerges and sets the merge policy through the gateway, with roles', async () => {
    const people = await ok(`mutation { upsertPeople(people: [{ workEmail: "m1@gw.example" }, { identities: [{ namespace: "ECID", value: "gw-m2" }] }]) { profile { id } } }`);
    const [m1] = people.upsertPeople.map((r: any) => r.profile.id);
    const { upsertPeople } = await ok(`mutation { upsertPeople(people: [{ workEmail: "m1@gw.example", identities: [{ namespace: "ECID", value: "gw-m2" }] }]) { status profile { merges { absorbedProfileIds } } } }`);
    expect(upsertPeople[0].status).toBe('MERGED');
    const { unmergeProfile } = await ok(`mutation($id: ID!) { unmergeProfile(id: $id) { id } }`, { id: m1 });
    expect(unmergeProfile).toHaveLength(2);

    const forbidden = await platform.query(`mutation { setMergePolicy(input: { kind: SOURCE_PRIORITY, sourcePriority: ["Salesforce"] }) { kind } }`, {}, { sandbox, role: 'editor' });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { setMergePolicy } = await ok(`mutation { setMergePolicy(input: { kind: SOURCE_PRIORITY, sourcePriority: ["Salesforce"] }) { kind sourcePriority } }`, {}, 'admin');
    expect(setMergePolicy).toEqual({ kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce'] });
  });

  it('50 profiles by id cost the profile subgraph one MongoDB query, and a page of profiles one more', async () => {
    const { upsertPeople } = await ok(`mutation($people: [PersonInput!]!) { upsertPeople(people: $people) { profile { id } } }`, {
      people: Array.from({ length: 50 }, (_, i) => ({ firstName: `Batch ${i}`, workEmail: `batch${i}@gw.example` })),
    });
    const ids: string[] = upsertPeople.map((r: any) => r.profile.id);
    finds.length = 0;
    const aliased = await ok(`query {\n${ids.map((id, i) => `p${i}: profile(id: ${JSON.stringify(id)}) { firstName }`).join('\n')}\n}`, {}, 'viewer');
    ids.forEach((_, i) => expect(aliased[`p${i}`]).toEqual({ firstName: `Batch ${i}` }));
    expect(finds).toHaveLength(1);

    finds.length = 0;
    const page = await ok(`{ profiles(first: 100) { edges { node { id firstName } } pageInfo { hasNextPage } } }`, {}, 'viewer');
    expect(page.profiles.edges.length).toBeGreaterThanOrEqual(50);
    expect(finds).toHaveLength(1);
  });
});
