/**
 * Audiences end to end, through the gateway with a worker: people, accounts,
 * opportunities, links and events ingested with the mutations; DESIGN's person and
 * account segments and an `inSegment` chain created, evaluated by the worker and
 * their members read with fields from the profile and account subgraphs; the data
 * changed and evaluated again (EXITED and REALIZED); preview and explain.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uniqueName } from '../../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { databaseSnapshot } from '../../support/databaseSnapshot.js';

const ORG = '00D5e000001XyZ';
const sk = (id: string) => `${id}@${ORG}.Salesforce`;
const DAY = 86_400_000;

const VP_BUYERS = `jobTitle.contains("vp", false) and account.annualRevenue >= 100000000
  and events.count(type = "web.pageView" and url.contains("/pricing") and timestamp occurs <= 30 days before now) >= 3
  and opportunities.any(role = "Decision Maker" and stage notIn ["Closed Won", "Closed Lost"])`;
const ENGAGED_ACCOUNTS = `people.count(events.any(type = "email.open" and timestamp occurs <= 14 days before now)) >= 2
  and opportunities.none(stage = "Closed Won")`;

let platform: TestPlatform;
/** Each test's own sandbox (tests in a file run one at a time), so no test depends on another's data or order. */
let sandbox: string;

async function run(query: string, variables: Record<string, unknown> = {}) {
  const result = await platform.query(query, variables, { sandbox });
  expect(result.errors).toBeUndefined();
  return result.data;
}

const now = () => new Date();
const daysAgo = (days: number) => new Date(now().getTime() - days * DAY).toISOString();

async function upsertPeople(people: Array<Record<string, unknown>>): Promise<Record<string, string>> {
  const data = await run('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { status profile { id workEmail } error { message } } }', { p: people });
  return Object.fromEntries(data.upsertPeople.map((r: { profile: { id: string; workEmail: string } }) => [r.profile.workEmail, r.profile.id]));
}

async function ingestEvents(email: string, events: Array<{ type: string; url?: string; daysAgo: number }>) {
  const data = await run('mutation ($e: [EventInput!]!) { ingestEvents(events: $e) { status error { message } } }', {
    e: events.map((event, i) => ({
      sourceKey: `${email.split('@')[0]}-${event.type}-${i}@123-ABC-456.Marketo`,
      identity: { namespace: 'Email', value: email },
      type: event.type,
      url: event.url,
      timestamp: daysAgo(event.daysAgo),
    })),
  });
  expect(data.ingestEvents.map((r: { error: unknown }) => r.error)).toEqual(events.map(() => null));
}

const pricingVisits = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'web.pageView', url: `https://acme.example/pricing?v=${i}`, daysAgo: i + 1 }));

async function createSegment(name: string, targetEntity: 'PERSON' | 'ACCOUNT', expression: string): Promise<string> {
  const data = await run('mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }', { input: { name, targetEntity, expression } });
  return data.createSegment.id;
}

async function evaluate(): Promise<void> {
  const { evaluateSegments } = await run('mutation { evaluateSegments { id status } }');
  expect(evaluateSegments.status).toBe('QUEUED');
  await expect
    .poll(async () => (await run('query ($id: ID!) { evaluationRun(id: $id) { status error } }', { id: evaluateSegments.id })).evaluationRun, {
      timeout: 60_000,
      interval: 200,
    })
    .toEqual({ status: 'SUCCEEDED', error: null });
  const { evaluationRun } = await run('query ($id: ID!) { evaluationRun(id: $id) { segmentsTotal segmentsDone startedAt finishedAt } }', { id: evaluateSegments.id });
  expect(evaluationRun.segmentsDone).toBe(evaluationRun.segmentsTotal);
  expect(evaluationRun.finishedAt >= evaluationRun.startedAt).toBe(true);
}

const MEMBERS = `query ($id: ID!, $status: [MembershipStatus!]) { segment(id: $id) {
  size
  members(status: $status) { totalCount nodes { status profile { workEmail account { name } } account { name domain } } }
} }`;

beforeAll(async () => {
  // Batch evaluation alone: what each run changes is asserted exactly. Streaming evaluation, which
  // would move members as soon as the data changes, has its own end-to-end tests (test/segment/streaming).
  platform = await startTestPlatform({ worker: true, workerServices: [] });
});
afterAll(async () => {
  await platform?.stop();
});

/**
 * The story's starting point in the current sandbox: Acme (engaged, with a VP buyer, Ada) and Globex
 * (a closed-won deal), DESIGN's segments, and a first evaluation run.
 */
async function seedAudiences(): Promise<{ ids: Record<string, string>; people: Record<string, string> }> {
  await run('mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { status } }', {
    a: [
      { sourceKey: sk('acme'), name: 'Acme', domain: 'acme.example', industry: 'Software', annualRevenue: 500_000_000 },
      { sourceKey: sk('globex'), name: 'Globex', domain: 'globex.example', annualRevenue: 5_000_000 },
    ],
  });
  await run('mutation ($o: [OpportunityInput!]!) { upsertOpportunities(opportunities: $o) { status } }', {
    o: [
      { sourceKey: sk('acme-exp'), accountSourceKey: sk('acme'), name: 'Acme expansion', stage: 'Negotiation' },
      { sourceKey: sk('globex-won'), accountSourceKey: sk('globex'), name: 'Globex renewal', stage: 'Closed Won', isClosed: true, isWon: true },
    ],
  });
  const people = await upsertPeople([
    { sourceKey: sk('ada'), firstName: 'Ada', jobTitle: 'VP Marketing', workEmail: 'ada@acme.example', country: 'US' },
    { sourceKey: sk('cy'), firstName: 'Cy', jobTitle: 'Engineer', workEmail: 'cy@acme.example' },
    { sourceKey: sk('bob'), firstName: 'Bob', jobTitle: 'VP Sales', workEmail: 'bob@globex.example' },
    { sourceKey: sk('gil'), firstName: 'Gil', jobTitle: 'Buyer', workEmail: 'gil@globex.example' },
  ]);
  await run('mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { status } }', {
    l: [
      { personSourceKey: sk('ada'), accountSourceKey: sk('acme'), isPrimary: true, jobRole: 'Champion' },
      { personSourceKey: sk('cy'), accountSourceKey: sk('acme'), isPrimary: true },
      { personSourceKey: sk('bob'), accountSourceKey: sk('globex'), isPrimary: true },
      { personSourceKey: sk('gil'), accountSourceKey: sk('globex'), isPrimary: true },
    ],
  });
  await run('mutation ($c: [OpportunityContactInput!]!) { addOpportunityContacts(contacts: $c) { status } }', {
    c: [
      { opportunitySourceKey: sk('acme-exp'), personSourceKey: sk('ada'), role: 'Decision Maker', isPrimary: true },
      { opportunitySourceKey: sk('globex-won'), personSourceKey: sk('bob'), role: 'Decision Maker' },
    ],
  });
  await ingestEvents('ada@acme.example', [...pricingVisits(3), { type: 'email.open', daysAgo: 2 }]);
  await ingestEvents('cy@acme.example', [{ type: 'email.open', daysAgo: 3 }]);
  await ingestEvents('bob@globex.example', [...pricingVisits(4), { type: 'email.open', daysAgo: 1 }]);
  await ingestEvents('gil@globex.example', [{ type: 'email.open', daysAgo: 1 }]);

  const ids: Record<string, string> = {};
  ids.buyers = await createSegment('VP buyers', 'PERSON', VP_BUYERS);
  ids.engaged = await createSegment('Engaged accounts', 'ACCOUNT', ENGAGED_ACCOUNTS);
  ids.chain = await createSegment('Engaged accounts with a VP buyer', 'ACCOUNT', `inSegment("${ids.engaged}") and people.any(inSegment("${ids.buyers}"))`);
  await evaluate();
  return { ids, people };
}

// Each test waits for the worker to finish one or two evaluation runs.
describe('audiences through the gateway', { timeout: 180_000 }, () => {
  beforeEach(() => {
    sandbox = uniqueName('aud-');
  });

  it('evaluates person and account segments and an inSegment chain, with members resolved across subgraphs', async () => {
    const { ids, people } = await seedAudiences();

    const buyers = (await run(MEMBERS, { id: ids.buyers })).segment;
    expect(buyers).toEqual({
      size: 1,
      members: { totalCount: 1, nodes: [{ status: 'REALIZED', profile: { workEmail: 'ada@acme.example', account: { name: 'Acme' } }, account: null }] },
    });
    const engaged = (await run(MEMBERS, { id: ids.engaged })).segment;
    expect(engaged.members.nodes).toEqual([{ status: 'REALIZED', profile: null, account: { name: 'Acme', domain: 'acme.example' } }]);
    const chain = (await run(MEMBERS, { id: ids.chain })).segment;
    expect(chain.members.nodes).toEqual([{ status: 'REALIZED', profile: null, account: { name: 'Acme', domain: 'acme.example' } }]);

    const { segment } = await run(
      'query ($id: ID!) { segment(id: $id) { dependsOn { name } usedBy { name } lastEvaluation { realized existing exited } evaluationMethod } }',
      { id: ids.engaged },
    );
    expect(segment).toEqual({
      dependsOn: [],
      usedBy: [{ name: 'Engaged accounts with a VP buyer' }],
      lastEvaluation: { realized: 1, existing: 0, exited: 0 },
      evaluationMethod: 'BATCH',
    });

    const { profile } = await run('query ($id: ID!) { profile(id: $id) { firstName segmentMemberships { status segment { name } } account { name audienceMemberships { status segment { name } } } } }', {
      id: people['ada@acme.example'],
    });
    expect(profile).toEqual({
      firstName: 'Ada',
      segmentMemberships: [{ status: 'REALIZED', segment: { name: 'VP buyers' } }],
      account: {
        name: 'Acme',
        audienceMemberships: expect.arrayContaining([
          { status: 'REALIZED', segment: { name: 'Engaged accounts' } },
          { status: 'REALIZED', segment: { name: 'Engaged accounts with a VP buyer' } },
        ]),
      },
    });
  });

  it('previews an edit without writing anything', async () => {
    const { ids, people } = await seedAudiences();
    const before = await databaseSnapshot(platform, sandbox);
    const { previewSegment } = await run(
      `query ($input: PreviewSegmentInput!) { previewSegment(input: $input) { size entering exiting sample { memberId profile { firstName } account { name } } } }`,
      { input: { segmentId: ids.buyers, expression: 'jobTitle.contains("vp", false)' } },
    );
    expect(previewSegment).toEqual({
      size: 2,
      entering: 1,
      exiting: 0,
      sample: expect.arrayContaining([
        { memberId: people['ada@acme.example'], profile: { firstName: 'Ada' }, account: null },
        { memberId: people['bob@globex.example'], profile: { firstName: 'Bob' }, account: null },
      ]),
    });
    const narrower = (
      await run(`query ($input: PreviewSegmentInput!) { previewSegment(input: $input) { size entering exiting } }`, {
        input: { segmentId: ids.buyers, targetEntity: 'PERSON', expression: 'jobTitle = "Engineer"' },
      })
    ).previewSegment;
    expect(narrower).toEqual({ size: 1, entering: 1, exiting: 1 });
    const fresh = (
      await run(`query ($input: PreviewSegmentInput!) { previewSegment(input: $input) { size entering exiting } }`, {
        input: { targetEntity: 'ACCOUNT', expression: 'annualRevenue >= 1000000' },
      })
    ).previewSegment;
    expect(fresh).toEqual({ size: 2, entering: null, exiting: null });
    expect(await databaseSnapshot(platform, sandbox)).toEqual(before);
  });

  it('explains why a member is in, with the data that decided it', async () => {
    const { ids, people } = await seedAudiences();
    const { explainMembership } = await run(
      `query ($segmentId: ID!, $memberId: ID!) { explainMembership(segmentId: $segmentId, memberId: $memberId) {
        qualifies status tree { condition value children { condition value evidence } }
      } }`,
      { segmentId: ids.buyers, memberId: people['ada@acme.example'] },
    );
    expect(explainMembership.qualifies).toBe(true);
    expect(explainMembership.status).toBe('REALIZED');
    const children: Array<{ condition: string; value: boolean; evidence: Record<string, unknown> | null }> = explainMembership.tree.children;
    expect(children.map((child) => [child.condition, child.value])).toEqual(children.map((child) => [child.condition, true]));
    expect(children.length).toBeGreaterThan(1);
    const revenue = children.find((child) => child.condition.startsWith('account.annualRevenue'));
    expect(revenue?.evidence).toMatchObject({ actual: 500_000_000 });
    const visits = children.find((child) => child.condition.startsWith('events.count'));
    expect(visits?.evidence).toMatchObject({ count: 3 });
    expect((visits?.evidence?.matchingIds as unknown[]).length).toBe(3);

    const missing = await platform.query(`{ explainMembership(segmentId: "${ids.buyers}", memberId: "prof_nobody") { qualifies } }`, {}, { sandbox });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('sees members exit and enter when the data changes and the segments are evaluated again', async () => {
    const { ids, people } = await seedAudiences();
    await upsertPeople([
      { sourceKey: sk('ada'), jobTitle: 'Director of Marketing', workEmail: 'ada@acme.example' },
      { sourceKey: sk('dee'), firstName: 'Dee', jobTitle: 'SVP Operations', workEmail: 'dee@acme.example' },
    ]);
    await run('mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { status } }', {
      l: [{ personSourceKey: sk('dee'), accountSourceKey: sk('acme'), isPrimary: true }],
    });
    await run('mutation ($c: [OpportunityContactInput!]!) { addOpportunityContacts(contacts: $c) { status } }', {
      c: [{ opportunitySourceKey: sk('acme-exp'), personSourceKey: sk('dee'), role: 'Decision Maker' }],
    });
    await ingestEvents('dee@acme.example', pricingVisits(3));
    await evaluate();

    const buyers = (await run(MEMBERS, { id: ids.buyers, status: ['REALIZED', 'EXISTING', 'EXITED'] })).segment;
    expect(buyers.size).toBe(1);
    expect(buyers.members.nodes.map((node: { status: string; profile: { workEmail: string } }) => [node.profile.workEmail, node.status]).sort()).toEqual([
      ['ada@acme.example', 'EXITED'],
      ['dee@acme.example', 'REALIZED'],
    ]);
    const chain = (await run(MEMBERS, { id: ids.chain })).segment;
    expect(chain.members.nodes).toEqual([{ status: 'EXISTING', profile: null, account: { name: 'Acme', domain: 'acme.example' } }]);

    const { segment } = await run('query ($id: ID!, $member: ID!) { segment(id: $id) { membershipHistory(memberId: $member) { status cause { kind } } } }', {
      id: ids.buyers,
      member: people['ada@acme.example'],
    });
    expect(segment.membershipHistory).toEqual([
      { status: 'REALIZED', cause: { kind: 'batch' } },
      { status: 'EXITED', cause: { kind: 'batch' } },
    ]);
    const { profile } = await run('query ($id: ID!) { profile(id: $id) { current: segmentMemberships { status } exited: segmentMemberships(status: [EXITED]) { status segment { name } } } }', {
      id: people['ada@acme.example'],
    });
    expect(profile).toEqual({ current: [], exited: [{ status: 'EXITED', segment: { name: 'VP buyers' } }] });
  });

  it('answers an expression error with its position through the gateway', async () => {
    const result = await platform.query(
      'mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }',
      { input: { name: 'Typo', targetEntity: 'PERSON', expression: 'country = "US"\n  and jobTitel = "VP"' } },
      { sandbox, role: 'editor' },
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 2, column: 7, suggestion: 'jobTitle' });
    expect(result.errors?.[0]?.extensions?.expected).toEqual(expect.any(Array));
  });

  it('keeps the schedule per sandbox and lets only admins change it', async () => {
    expect((await run('{ evaluationSchedule }')).evaluationSchedule).toBe('0 2 * * *');
    expect((await run('mutation { setEvaluationSchedule(cron: "30 3 * * *") }')).setEvaluationSchedule).toBe('30 3 * * *');
    expect((await run('{ evaluationSchedule }')).evaluationSchedule).toBe('30 3 * * *');
    const invalid = await platform.query('mutation { setEvaluationSchedule(cron: "every night") }', {}, { sandbox });
    expect(invalid.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const editor = await platform.query('mutation { setEvaluationSchedule(cron: "0 4 * * *") }', {}, { sandbox, role: 'editor' });
    expect(editor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await platform.query('mutation { evaluateSegments(ids: ["seg_nowhere"]) { id } }', {}, { sandbox, role: 'editor' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
