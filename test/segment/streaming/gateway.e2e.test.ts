/**
 * Streaming end to end, through the gateway with a worker (which runs the streaming
 * evaluator): an ingest makes a membership appear, a merge joins two people's events into
 * one qualifying profile, and the API says the segment is evaluated by streaming, and how far
 * behind the evaluator is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';

const DAY = 86_400_000;
const PRICING = 'events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3';
let platform: TestPlatform;
const sandbox = uniqueName('str-');

async function run(query: string, variables: Record<string, unknown> = {}) {
  const result = await platform.query(query, variables, { sandbox });
  expect(result.errors).toBeUndefined();
  return result.data;
}

let counter = 0;
async function pricingVisits(email: string, days: number[]): Promise<void> {
  const data = await run('mutation ($e: [EventInput!]!) { ingestEvents(events: $e) { error { message } } }', {
    e: days.map((daysAgo) => ({
      sourceKey: `visit-${++counter}@123-ABC-456.Marketo`,
      identity: { namespace: 'Email', value: email },
      type: 'web.pageView',
      url: 'https://acme.example/pricing',
      timestamp: new Date(Date.now() - daysAgo * DAY).toISOString(),
    })),
  });
  expect(data.ingestEvents.map((result: { error: unknown }) => result.error)).toEqual(days.map(() => null));
}

async function upsertPerson(person: Record<string, unknown>): Promise<string> {
  const data = await run('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { profile { id } error { message } } }', { p: [person] });
  expect(data.upsertPeople[0].error).toBeNull();
  return data.upsertPeople[0].profile.id;
}

const MEMBERS = 'query ($id: ID!) { segment(id: $id) { members { nodes { status profile { id workEmail } } } } }';
const memberEmails = async (id: string): Promise<string[]> =>
  (await run(MEMBERS, { id })).segment.members.nodes.map((node: { profile: { workEmail: string } }) => node.profile.workEmail).sort();

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true });
  await platform.keyFor(sandbox);
});
afterAll(async () => {
  await platform?.stop();
});

describe('streaming audiences through the gateway', () => {
  it('makes a membership appear when an ingest qualifies a person, and a merge joins two people', async () => {
    const created = await run('mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }', {
      input: { name: 'Pricing visitors', targetEntity: 'PERSON', expression: PRICING },
    });
    const segmentId: string = created.createSegment.id;

    await upsertPerson({ sourceKey: 'l1@123-ABC-456.Marketo', workEmail: 'ada@acme.example', jobTitle: 'VP Sales' });
    await pricingVisits('ada@acme.example', [1, 2, 3]);
    await expect.poll(() => memberEmails(segmentId), { timeout: 20_000, interval: 100 }).toEqual(['ada@acme.example']);

    // Two visits each: neither qualifies until one record names both emails and merges them.
    const first = await upsertPerson({ sourceKey: 'l2@123-ABC-456.Marketo', workEmail: 'grace@acme.example' });
    const second = await upsertPerson({ sourceKey: 'l3@123-ABC-456.Marketo', workEmail: 'g.hopper@acme.example' });
    expect(first).not.toBe(second);
    await pricingVisits('grace@acme.example', [4, 5]);
    await pricingVisits('g.hopper@acme.example', [6, 7]);
    await upsertPerson({ sourceKey: 'c1@00D5e000001XyZ.Salesforce', identities: [{ namespace: 'Email', value: 'grace@acme.example' }, { namespace: 'Email', value: 'g.hopper@acme.example' }] });
    await expect.poll(async () => (await memberEmails(segmentId)).length, { timeout: 20_000, interval: 100 }).toBe(2);
    const status = await run('query ($id: ID!) { segment(id: $id) { evaluationMethod evaluationReasons } streamingStatus { lagMs pendingChanges lastChangeAt } }', { id: segmentId });
    expect(status.segment).toEqual({ evaluationMethod: 'STREAMING', evaluationReasons: [] });
    expect(status.streamingStatus.lastChangeAt).not.toBeNull();
    expect(status.streamingStatus.pendingChanges).toBeGreaterThanOrEqual(0);
    const history = await run('query ($id: ID!) { segment(id: $id) { members { nodes { profile { id } } } } }', { id: segmentId });
    const ids = history.segment.members.nodes.map((node: { profile: { id: string } }) => node.profile.id);
    expect(ids.some((id: string) => id === first || id === second)).toBe(true);
  });
});
