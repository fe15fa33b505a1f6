/**
 * Cross-sandbox attempts through every entry point that exists. An attacker
 * with a valid admin key of its own sandbox names another sandbox's records;
 * each attempt must answer exactly as the same attempt on a record that does
 * not exist (ids replaced), reveal none of the victim's data, and change
 * nothing. A new entry point joins the suite as one more row of ATTEMPTS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, untilHeard } from '../gateway/support/wsClient.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { uniqueName } from '../support/mongo.js';
import { databaseSnapshot } from '../support/databaseSnapshot.js';

interface Target {
  sandbox: string;
  personId: string;
  accountId: string;
  opportunityId: string;
  segmentId: string;
  destinationId: string;
  importId: string;
}

interface Attempt {
  name: string;
  /** Runs as the attacker against `target`; returns what the attacker sees. */
  run(platform: TestPlatform, attacker: string, target: Target): Promise<unknown>;
}

const gql = (query: string, variables: (t: Target) => Record<string, unknown>): Attempt['run'] =>
  (platform, attacker, target) => platform.query(query, variables(target), { sandbox: attacker });

const admin = async (platform: TestPlatform, attacker: string, query: string, variables: Record<string, unknown>) => {
  const response = await fetch(new URL('/admin/graphql', platform.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await platform.keyFor(attacker)}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
};

const ATTEMPTS: Attempt[] = [
  { name: 'query profile', run: gql('query ($id: ID!) { profile(id: $id) { id firstName } }', (t) => ({ id: t.personId })) },
  { name: 'query account', run: gql('query ($id: ID!) { account(id: $id) { id name } }', (t) => ({ id: t.accountId })) },
  { name: 'query opportunity', run: gql('query ($id: ID!) { opportunity(id: $id) { id name } }', (t) => ({ id: t.opportunityId })) },
  { name: 'query segment', run: gql('query ($id: ID!) { segment(id: $id) { id name } }', (t) => ({ id: t.segmentId })) },
  { name: 'query destination', run: gql('query ($id: ID!) { destination(id: $id) { id name } }', (t) => ({ id: t.destinationId })) },
  {
    name: 'mutation updateSegment',
    run: gql('mutation ($id: ID!) { updateSegment(id: $id, input: { name: "pwned" }) { id name } }', (t) => ({ id: t.segmentId })),
  },
  { name: 'mutation deleteSegment', run: gql('mutation ($id: ID!) { deleteSegment(id: $id) }', (t) => ({ id: t.segmentId })) },
  {
    name: 'mutation updateDestination',
    run: gql('mutation ($id: ID!) { updateDestination(id: $id, input: { name: "pwned" }) { id name } }', (t) => ({ id: t.destinationId })),
  },
  { name: 'mutation deleteDestination', run: gql('mutation ($id: ID!) { deleteDestination(id: $id) }', (t) => ({ id: t.destinationId })) },
  { name: 'query import report', run: gql('query ($id: ID!) { import(id: $id) { id status errors { line reason } } }', (t) => ({ id: t.importId })) },
  {
    name: 'mutation uploadImportChunk into an import',
    run: gql('mutation ($id: ID!) { uploadImportChunk(importId: $id, index: 0, content: "id,email\\n1,pwned@x.example\\n") { id } }', (t) => ({ id: t.importId })),
  },
  {
    name: 'mutation completeImportUpload of an import',
    run: gql('mutation ($id: ID!) { completeImportUpload(importId: $id, chunkCount: 1) { id status } }', (t) => ({ id: t.importId })),
  },
  {
    name: 'mutation upsertAccounts by id',
    run: gql('mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { status account { id name } error { code message } } }', (t) => ({
      a: [{ id: t.accountId, name: 'pwned' }],
    })),
  },
  {
    name: 'mutation upsertOpportunities by id',
    run: gql(
      'mutation ($o: [OpportunityInput!]!) { upsertOpportunities(opportunities: $o) { status opportunity { id name } error { code message } } }',
      (t) => ({ o: [{ id: t.opportunityId, name: 'pwned' }] }),
    ),
  },
  {
    name: 'mutation linkPeopleToAccounts to a foreign account',
    run: gql('mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { status error { code message } } }', (t) => ({
      l: [{ personId: 'prof_attacker', accountId: t.accountId, isPrimary: true }],
    })),
  },
  {
    name: 'x-sandbox header naming the sandbox',
    run: async (platform, attacker, target) => {
      const response = await fetch(platform.gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await platform.keyFor(attacker)}`,
          'x-sandbox': target.sandbox,
        },
        body: JSON.stringify({ query: '{ profiles(first: 5) { edges { node { id firstName } } } }' }),
      });
      return { status: response.status, body: await response.json() };
    },
  },
  {
    name: 'admin resetSandbox',
    run: (platform, attacker, target) =>
      admin(platform, attacker, 'mutation ($n: String!) { resetSandbox(name: $n) { name } }', { n: target.sandbox }),
  },
  {
    name: 'admin deleteSandbox',
    run: (platform, attacker, target) =>
      admin(platform, attacker, 'mutation ($n: String!) { deleteSandbox(name: $n) { name } }', { n: target.sandbox }),
  },
];

/** Replaces every id of `target` with a placeholder, so two answers can be compared. */
function normalise(answer: unknown, target: Target): string {
  let text = JSON.stringify(answer);
  for (const [field, value] of Object.entries(target)) text = text.replaceAll(value, `<${field}>`);
  return text;
}

describe('sandbox isolation through every entry point', () => {
  let platform: TestPlatform;
  let victim: Target;
  let missing: Target;
  const attacker = uniqueName('attacker-');
  const counts = { tried: 0, refused: 0 };

  beforeAll(async () => {
    platform = await startTestPlatform();
    victim = await seedVictim(platform, uniqueName('victim-'));
    missing = {
      sandbox: uniqueName('nosuch-'),
      personId: 'prof_missing',
      accountId: 'acc_missing',
      opportunityId: 'opp_missing',
      segmentId: 'seg_missing',
      destinationId: 'dst_missing',
      importId: 'imp_missing',
    };
  }, 60_000);

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`isolation: ${counts.tried} cross-sandbox attempts tried, ${counts.refused} refused`);
    await platform?.stop();
  });

  for (const attempt of ATTEMPTS) {
    it(`${attempt.name}: answers as for a record that does not exist, and changes nothing`, async () => {
      counts.tried += 1;
      const before = await databaseSnapshot(platform, victim.sandbox);
      const onVictim = await attempt.run(platform, attacker, victim);
      expect(await databaseSnapshot(platform, victim.sandbox)).toEqual(before);
      const onMissing = await attempt.run(platform, attacker, missing);
      // An attempt the schema refuses proves nothing about isolation.
      expect(JSON.stringify(onVictim)).not.toContain('GRAPHQL_VALIDATION_FAILED');
      expect(normalise(onVictim, victim)).toBe(normalise(onMissing, missing));
      expect(JSON.stringify(onVictim)).not.toMatch(/Victoria|Victim Corp|Victim deal|Victim segment|Victim hook/);
      counts.refused += 1;
    });
  }

  it('subscriptions: a subscriber in another sandbox hears nothing of the victim', async () => {
    counts.tried += 1;
    const CHANGES = 'subscription ($id: ID) { segmentDefinitionChanged(segmentId: $id) { kind segmentId } }';
    type Change = { segmentDefinitionChanged: { kind: string; segmentId: string } };
    const attackerParams = await platform.connectionParams(attacker);
    // One spy names the victim's segment; another listens to everything its own sandbox may hear.
    const spy = subscribe<Change>(platform.wsUrl, CHANGES, { connectionParams: attackerParams, variables: { id: victim.segmentId } });
    const wideSpy = subscribe<Change>(platform.wsUrl, CHANGES, { connectionParams: attackerParams });
    const own = subscribe<Change>(platform.wsUrl, CHANGES, { connectionParams: await platform.connectionParams(victim.sandbox), variables: { id: victim.segmentId } });
    const attackerSegments = new Set<string>();
    const createAttackerSegment = async (name: string) => {
      const created = await platform.query(
        'mutation ($name: String!) { createSegment(input: { name: $name, expression: "exists(workEmail)", targetEntity: PERSON }) { id } }',
        { name },
        { sandbox: attacker },
      );
      attackerSegments.add(created.data.createSegment.id);
    };
    try {
      // Each listener proves it hears what it should before anything is asserted about silence.
      await untilHeard(wideSpy, (attempt) => createAttackerSegment(`control ${attempt}`), 'the attacker to hear its own sandbox');
      await untilHeard(
        own,
        (attempt) =>
          platform.query(
            'mutation ($id: ID!, $d: String) { updateSegment(id: $id, input: { description: $d }) { id } }',
            { id: victim.segmentId, d: `touch ${attempt}` },
            { sandbox: victim.sandbox },
          ),
        "the victim to hear its segment's changes",
      );
      // Events arrive in commit order: once the attacker hears a fence created after the victim's
      // changes, any of them routed to the attacker would have arrived before it.
      await createAttackerSegment('fence');
      const fence = [...attackerSegments].at(-1)!;
      await expect.poll(() => wideSpy.events.map((e) => e.segmentDefinitionChanged.segmentId), { timeout: 5_000 }).toContain(fence);

      expect(wideSpy.events.map((e) => e.segmentDefinitionChanged.segmentId).filter((id) => !attackerSegments.has(id))).toEqual([]);
      // The named spy's subscription was accepted and heard nothing. Nothing it may hear exists, so it cannot
      // prove it was listening: the wide spy, proven listening above, is what shows the victim's events stay home.
      expect(spy.errors).toEqual([]);
      expect(spy.events).toEqual([]);
      expect(wideSpy.errors).toEqual([]);
      counts.refused += 1;
    } finally {
      await Promise.all([spy.close(), wideSpy.close(), own.close()]);
    }
  });

  it("leaves the victim's data exactly as it was", async () => {
    const result = await platform.query(
      `query ($p: ID!, $a: ID!, $o: ID!, $s: ID!, $d: ID!, $i: ID!) {
        profile(id: $p) { firstName } account(id: $a) { name } opportunity(id: $o) { name }
        segment(id: $s) { name } destination(id: $d) { name } import(id: $i) { status rowsTotal }
      }`,
      { p: victim.personId, a: victim.accountId, o: victim.opportunityId, s: victim.segmentId, d: victim.destinationId, i: victim.importId },
      { sandbox: victim.sandbox },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      profile: { firstName: 'Victoria' },
      account: { name: 'Victim Corp' },
      opportunity: { name: 'Victim deal' },
      segment: { name: 'Victim segment' },
      destination: { name: 'Victim hook' },
      import: { status: 'UPLOADING', rowsTotal: 0 },
    });
  });
});

async function seedVictim(platform: TestPlatform, sandbox: string): Promise<Target> {
  const run = async (query: string, variables: Record<string, unknown>) => {
    const result = await platform.query(query, variables, { sandbox });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };
  const people = await run('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { profile { id } } }', {
    p: [{ firstName: 'Victoria', workEmail: 'victoria@victim.example' }],
  });
  const accounts = await run('mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { account { id } } }', {
    a: [{ name: 'Victim Corp', domain: 'victim.example' }],
  });
  const accountId: string = accounts.upsertAccounts[0].account.id;
  const opportunities = await run('mutation ($o: [OpportunityInput!]!) { upsertOpportunities(opportunities: $o) { opportunity { id } } }', {
    o: [{ name: 'Victim deal', accountId, stage: 'Prospecting' }],
  });
  const segment = await run('mutation ($s: CreateSegmentInput!) { createSegment(input: $s) { id } }', {
    s: { name: 'Victim segment', expression: 'jobTitle = "CFO"', targetEntity: 'PERSON' },
  });
  const destination = await run('mutation ($d: CreateDestinationInput!) { createDestination(input: $d) { id } }', {
    d: { type: 'WEBHOOK', name: 'Victim hook', config: { url: 'https://hooks.victim.example/cdp' }, credentials: { secret: 's3cr3t' } },
  });
  const started = await run('mutation ($i: StartImportInput!) { startImport(input: $i) { id } }', {
    i: { source: 'marketo', instance: '123-ABC-456', entity: 'leads' },
  });
  return {
    sandbox,
    importId: started.startImport.id,
    personId: people.upsertPeople[0].profile.id,
    accountId,
    opportunityId: opportunities.upsertOpportunities[0].opportunity.id,
    segmentId: segment.createSegment.id,
    destinationId: destination.createDestination.id,
  };
}
