/**
 * Security of the subgraphs, called directly (around the gateway):
 * - isolation: a valid token for one sandbox reaches nothing of another, through
 *   any entry point; each answer is exactly the answer for a missing record;
 * - hardened inputs: huge and deeply nested JSON is a typed BAD_USER_INPUT error;
 * - a seeded fuzz run over HTTP: no 5xx, no stack trace, no crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../lib/auth/roles.js';
import { gql, postGraphQL, requestHeaders, type GraphQLResponse } from '../subgraphs/support/graphql.js';
import { startAllSubgraphs, SUBGRAPHS, type AllSubgraphs, type SubgraphName } from '../subgraphs/support/allSubgraphs.js';
import { Fuzz, nextGraphQLRequest, type GraphQLFuzzSeed } from '../support/fuzz.js';

const VICTIM = 'victim';
const ATTACKER = 'attacker';
const VICTIM_EMAIL = 'victim.person@victim.example';
const VICTIM_SECRET = 'victim-credential-value';

interface VictimRecords {
  profile: string;
  email: string;
  account: string;
  opportunity: string;
  segment: string;
  destination: string;
}

interface IsolationContext {
  all: AllSubgraphs;
  victim: VictimRecords;
  /** A valid admin token for the attacker's own sandbox, plus an `x-sandbox` header naming the victim's. */
  asAttacker(subgraph: SubgraphName, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
}

/**
 * One way into a subgraph. `attempt` aims at the victim record `id`; with
 * `expectSameAsMissing`, the answer must equal the answer for an id that exists
 * nowhere. Every entry point must leak nothing of the victim and change nothing.
 * A new entry point joins the suite with one line here.
 */
interface EntryPoint {
  name: string;
  target: keyof VictimRecords;
  attempt: (ctx: IsolationContext, id: string) => Promise<GraphQLResponse>;
  expectSameAsMissing: boolean;
}

const entities = (type: string, selection: string) => (ctx: IsolationContext, id: string, subgraph: SubgraphName) =>
  ctx.asAttacker(subgraph, `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${selection} } } }`, {
    r: [{ __typename: type, id }],
  });

const ENTRY_POINTS: EntryPoint[] = [
  { name: '_entities Profile', target: 'profile', expectSameAsMissing: true, attempt: (ctx, id) => entities('Profile', 'id firstName workEmail')(ctx, id, 'profile') },
  { name: '_entities Profile.account (account subgraph)', target: 'profile', expectSameAsMissing: true, attempt: (ctx, id) => entities('Profile', 'account { id name } accounts { account { id } }')(ctx, id, 'account') },
  { name: '_entities Account', target: 'account', expectSameAsMissing: true, attempt: (ctx, id) => entities('Account', 'id name people { person { id } } opportunities { id }')(ctx, id, 'account') },
  { name: '_entities Opportunity', target: 'opportunity', expectSameAsMissing: true, attempt: (ctx, id) => entities('Opportunity', 'id name account { id }')(ctx, id, 'account') },
  { name: '_entities Segment', target: 'segment', expectSameAsMissing: true, attempt: (ctx, id) => entities('Segment', 'id name expression')(ctx, id, 'segment') },
  { name: '_entities Destination', target: 'destination', expectSameAsMissing: true, attempt: (ctx, id) => entities('Destination', 'id name config hasCredentials')(ctx, id, 'destination') },
  { name: 'profile(id)', target: 'profile', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('profile', `query($id: ID!) { profile(id: $id) { id } }`, { id }) },
  { name: 'profileByIdentity', target: 'email', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('profile', `query($v: String!) { profileByIdentity(namespace: "Email", value: $v) { id } }`, { v: id }) },
  { name: 'account(id)', target: 'account', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `query($id: ID!) { account(id: $id) { id } }`, { id }) },
  { name: 'opportunity(id)', target: 'opportunity', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `query($id: ID!) { opportunity(id: $id) { id } }`, { id }) },
  { name: 'segment(id)', target: 'segment', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('segment', `query($id: ID!) { segment(id: $id) { id } }`, { id }) },
  { name: 'destination(id)', target: 'destination', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('destination', `query($id: ID!) { destination(id: $id) { id } }`, { id }) },
  { name: 'upsertAccounts by id', target: 'account', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `mutation($id: ID) { upsertAccounts(accounts: [{ id: $id, name: "Taken over" }]) { status error { code message } } }`, { id }) },
  { name: 'upsertOpportunities by id', target: 'opportunity', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `mutation($id: ID) { upsertOpportunities(opportunities: [{ id: $id, stage: "Closed Lost" }]) { status error { code message } } }`, { id }) },
  { name: 'upsertOpportunities on an account', target: 'account', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `mutation($a: ID) { upsertOpportunities(opportunities: [{ accountId: $a, name: "Planted" }]) { status error { code message } } }`, { a: id }) },
  { name: 'linkPeopleToAccounts', target: 'account', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('account', `mutation($a: ID!) { linkPeopleToAccounts(links: [{ personId: "prof_planted", accountId: $a }]) { status error { code message } } }`, { a: id }) },
  { name: 'updateSegment', target: 'segment', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('segment', `mutation($id: ID!) { updateSegment(id: $id, input: { name: "Taken over" }) { id } }`, { id }) },
  { name: 'deleteSegment', target: 'segment', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('segment', `mutation($id: ID!) { deleteSegment(id: $id) }`, { id }) },
  { name: 'updateDestination', target: 'destination', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('destination', `mutation($id: ID!) { updateDestination(id: $id, input: { config: { url: "https://attacker.example" } }) { id } }`, { id }) },
  { name: 'deleteDestination', target: 'destination', expectSameAsMissing: true, attempt: (ctx, id) => ctx.asAttacker('destination', `mutation($id: ID!) { deleteDestination(id: $id) }`, { id }) },
  { name: 'profiles list', target: 'profile', expectSameAsMissing: false, attempt: (ctx) => ctx.asAttacker('profile', `{ profiles(first: 500) { edges { node { id workEmail } } } }`) },
  { name: 'accounts list', target: 'account', expectSameAsMissing: false, attempt: (ctx) => ctx.asAttacker('account', `{ accounts(first: 500) { edges { node { id name } } } }`) },
  { name: 'segments list', target: 'segment', expectSameAsMissing: false, attempt: (ctx) => ctx.asAttacker('segment', `{ segments(first: 500) { id name } }`) },
  { name: 'destinations list', target: 'destination', expectSameAsMissing: false, attempt: (ctx) => ctx.asAttacker('destination', `{ destinations(first: 500) { id name } }`) },
];

/** Ids differ between the two calls; the rest of the answer must not. */
const normalise = (response: GraphQLResponse, id: string) => JSON.parse(JSON.stringify(response).split(id).join('<id>'));

describe('sandbox isolation at the subgraphs', () => {
  const ctx = { victim: {} } as IsolationContext;
  let victimSnapshot: () => Promise<string>;

  beforeAll(async () => {
    const all = await startAllSubgraphs();
    ctx.all = all;
    ctx.asAttacker = async (subgraph, query, variables = {}) =>
      postGraphQL(all.services[subgraph].url, query, variables, { sandbox: ATTACKER, role: 'admin', headers: { 'x-sandbox': VICTIM } });
    const asVictim = (subgraph: SubgraphName, query: string, variables: Record<string, unknown> = {}) =>
      gql(all.services[subgraph].url, query, variables, { sandbox: VICTIM, role: 'admin' });

    const people = await asVictim('profile', `mutation($e: String) { upsertPeople(people: [{ firstName: "Vic", workEmail: $e }]) { profile { id } } }`, { e: VICTIM_EMAIL });
    ctx.victim.profile = people.upsertPeople[0].profile.id;
    ctx.victim.email = VICTIM_EMAIL;
    const accounts = await asVictim('account', `mutation { upsertAccounts(accounts: [{ name: "Victim Inc", domain: "victim.example" }]) { account { id } } }`);
    ctx.victim.account = accounts.upsertAccounts[0].account.id;
    const opportunities = await asVictim('account', `mutation($a: ID) { upsertOpportunities(opportunities: [{ accountId: $a, name: "Victim deal" }]) { opportunity { id } } }`, { a: ctx.victim.account });
    ctx.victim.opportunity = opportunities.upsertOpportunities[0].opportunity.id;
    await asVictim('account', `mutation($p: ID!, $a: ID!) { linkPeopleToAccounts(links: [{ personId: $p, accountId: $a, isPrimary: true }]) { status } }`, { p: ctx.victim.profile, a: ctx.victim.account });
    const segment = await asVictim('segment', `mutation { createSegment(input: { name: "Victim segment", expression: "exists(workEmail)", targetEntity: PERSON }) { id } }`);
    ctx.victim.segment = segment.createSegment.id;
    const destination = await asVictim('destination', `mutation($c: JSON) { createDestination(input: { type: WEBHOOK, name: "Victim hook", config: { url: "https://victim.example/hook" }, credentials: $c }) { id } }`, { c: { signingKey: VICTIM_SECRET } });
    ctx.victim.destination = destination.createDestination.id;

    victimSnapshot = async () => {
      const db = all.databases.sandbox(VICTIM);
      // Every collection of the victim's database, so new ones are covered without editing this list.
      const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      return JSON.stringify(await Promise.all(names.map((name) => db.collection(name).find({}).sort({ _id: 1 }).toArray())));
    };
  });
  afterAll(async () => {
    await ctx.all?.stop();
  });

  it.each(ENTRY_POINTS)('$name: nothing of another sandbox is read or changed', async ({ attempt, target }) => {
    const before = await victimSnapshot();
    const id = ctx.victim[target];
    const response = await attempt(ctx, id);
    const text = JSON.stringify(response);
    // An attempt the schema refuses proves nothing about isolation.
    expect(text).not.toContain('GRAPHQL_VALIDATION_FAILED');
    for (const value of [...Object.values(ctx.victim), 'Victim', 'victim.example', VICTIM_SECRET]) {
      // The id the attacker sent may be echoed back (e.g. in "not found"); nothing else of the victim's.
      expect(text.split(id).join('<id>')).not.toContain(value);
    }
    expect(await victimSnapshot()).toBe(before);
  });

  it.each(ENTRY_POINTS.filter((entry) => entry.expectSameAsMissing))('$name: answers as it would for an id that does not exist', async ({ attempt, target }) => {
    const id = ctx.victim[target];
    const missingId = target === 'email' ? 'nobody@nowhere.example' : `${id.split('_')[0]}_0000000000missing00000000`;
    const before = await victimSnapshot();
    const [response, missing] = [await attempt(ctx, id), await attempt(ctx, missingId)];
    expect(normalise(response, id)).toEqual(normalise(missing, missingId));
    expect(await victimSnapshot()).toBe(before);
  });

  it('the victim still sees its own data (the attempts hit nothing by accident)', async () => {
    const { _entities } = await gql(
      ctx.all.services.account.url,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { name } } }`,
      { r: [{ __typename: 'Account', id: ctx.victim.account }] },
      { sandbox: VICTIM, role: 'viewer' },
    );
    expect(_entities).toEqual([{ name: 'Victim Inc' }]);
  });
});

describe('hardened JSON inputs', () => {
  let all: AllSubgraphs;
  beforeAll(async () => {
    all = await startAllSubgraphs();
  });
  afterAll(async () => {
    await all?.stop();
  });

  const CREATE = `mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }`;
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const deepArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

  const hostile: Array<{ name: string; body: () => string; message: RegExp; code?: string }> = [
    { name: 'config nested 21 levels', body: () => `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"type":"MARKETO","name":"x","config":${deepObject(21)}}}}`, message: /nested deeper than 20/ },
    { name: 'config nested 200,000 levels', body: () => `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"type":"MARKETO","name":"x","config":{"a":${deepArray(200_000)}}}}}`, message: /nested deeper than 20/ },
    { name: 'credentials nested 100,000 levels', body: () => `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"type":"MARKETO","name":"x","credentials":${deepObject(100_000)}}}}`, message: /nested deeper than 20/ },
    {
      // Literals are checked while the document is validated, so graphql-js labels the error.
      name: 'config as a literal nested 25 levels',
      body: () => JSON.stringify({ query: `mutation { createDestination(input: { type: MARKETO, name: "x", config: ${'{a: '.repeat(25)}1${'}'.repeat(25)} }) { id } }` }),
      message: /nested deeper than 20/,
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    {
      // Refused before parsing: graphql-js parses recursively.
      name: 'config as a literal nested 200,000 levels',
      body: () => JSON.stringify({ query: `mutation { createDestination(input: { type: MARKETO, name: "x", config: ${'{a: '.repeat(200_000)}1${'}'.repeat(200_000)} }) { id } }` }),
      message: /document is nested deeper than 128 levels/,
      code: 'GRAPHQL_PARSE_FAILED',
    },
    {
      name: 'credentials as a literal list nested 100 levels',
      body: () => JSON.stringify({ query: `mutation { createDestination(input: { type: MARKETO, name: "x", credentials: {a: ${'['.repeat(100)}1${']'.repeat(100)}} }) { id } }` }),
      message: /nested deeper than 20/,
      code: 'GRAPHQL_VALIDATION_FAILED',
    },
    { name: 'config with 50,000 keys', body: () => JSON.stringify({ query: CREATE, variables: { input: { type: 'MARKETO', name: 'x', config: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) } } }), message: /has more than 1000 keys/ },
    {
      name: 'config with 12,000 values in 20 lists',
      body: () => {
        const lists = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${i}`, new Array(600).fill(0)]));
        return JSON.stringify({ query: CREATE, variables: { input: { type: 'MARKETO', name: 'x', config: lists } } });
      },
      message: /more than 10000 values/,
    },
    { name: 'config with a 900 kB string', body: () => JSON.stringify({ query: CREATE, variables: { input: { type: 'MARKETO', name: 'x', config: { big: 'x'.repeat(900_000) } } } }), message: /larger than 65536 bytes/ },
    { name: 'config with a 100 kB key', body: () => JSON.stringify({ query: CREATE, variables: { input: { type: 'MARKETO', name: 'x', config: { ['k'.repeat(100_000)]: 1 } } } }), message: /longer than 200 characters/ },
  ];

  it.each(hostile)('$name: a typed error, nothing stored', async ({ body, message, code }) => {
    const response = await fetch(all.services.destination.url, { method: 'POST', headers: await requestHeaders({ sandbox: 'hostile' }), body: body() });
    const json = (await response.json()) as GraphQLResponse;
    expect(response.status).toBeLessThan(500);
    expect(json.errors).toHaveLength(1);
    expect(json.errors?.[0].extensions?.code).toBe(code ?? 'BAD_USER_INPUT');
    expect(json.errors?.[0].message).toMatch(message);
    expect(json.data ?? null).toBeNull();
    expect(await all.databases.sandbox('hostile').collection('destinations').countDocuments()).toBe(0);
  });
});

describe('fuzzing a subgraph over HTTP', () => {
  const SEED = 0x5eed_c0de;
  // A fixed number, not a time budget, so every run tries the same inputs whatever the machine's load.
  const INPUTS = 400;
  const BODY_LIMIT = 1024 * 1024;
  const KNOWN_CODES = new Set([
    'BAD_USER_INPUT',
    'BAD_REQUEST',
    'GRAPHQL_PARSE_FAILED',
    'GRAPHQL_VALIDATION_FAILED',
    'OPERATION_RESOLUTION_FAILURE',
    'PERSISTED_QUERY_NOT_FOUND',
    'PERSISTED_QUERY_NOT_SUPPORTED',
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'LIMIT_EXCEEDED',
  ]);

  const SEEDS: Record<SubgraphName, GraphQLFuzzSeed[]> = {
    profile: [
      { query: `mutation($p: [PersonInput!]!) { upsertPeople(people: $p) { status error { code } } }`, variables: { p: [{ workEmail: 'a@b.example' }] }, jsonVariables: ['p'] },
      { query: `query($id: ID!) { profile(id: $id) { id identities { namespace value } } }`, variables: { id: 'prof_x' } },
      { query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Profile { id } } }`, variables: { r: [{ __typename: 'Profile', id: 'x' }] }, jsonVariables: ['r'] },
    ],
    account: [
      { query: `mutation($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { status } }`, variables: { a: [{ name: 'A' }] }, jsonVariables: ['a'] },
      { query: `{ accounts(first: 5) { edges { node { id opportunities { id account { id } } } } } }` },
    ],
    segment: [
      { query: `mutation($i: CreateSegmentInput!) { createSegment(input: $i) { id } }`, variables: { i: { name: 'S', expression: 'exists(x)', targetEntity: 'PERSON' } }, jsonVariables: ['i'] },
      { query: `{ segments { id name } }` },
    ],
    destination: [
      { query: `mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id config } }`, variables: { input: { type: 'MARKETO', name: 'M', config: {} } }, jsonVariables: ['input'] },
      { query: `mutation($c: JSON) { createDestination(input: { type: MARKETO, name: "M", config: $c }) { id } }`, variables: { c: {} }, jsonVariables: ['c'] },
      { query: `mutation($id: ID!, $c: JSON) { updateDestination(id: $id, input: { credentials: $c }) { id } }`, variables: { id: 'dst_x', c: {} }, jsonVariables: ['c'] },
    ],
  };

  let all: AllSubgraphs;
  beforeAll(async () => {
    all = await startAllSubgraphs();
  });
  afterAll(async () => {
    await all?.stop();
  });

  it(`answers every input with a well-formed result or typed error (seed ${SEED})`, async () => {
    const fuzz = new Fuzz(SEED);
    const started = Date.now();
    const failures: string[] = [];
    const kinds = new Map<string, { count: number; slowestMs: number }>();
    let tried = 0;
    let crashes = 0;

    while (tried < INPUTS) {
      const subgraph = fuzz.pick(SUBGRAPHS);
      const request = nextGraphQLRequest(fuzz, SEEDS[subgraph], BODY_LIMIT - 1024);
      const role: Role = fuzz.pick(['viewer', 'editor', 'admin'] as const);
      const headers = await requestHeaders({ sandbox: 'fuzz', role, ...(fuzz.chance(0.05) ? { token: 'garbage' } : {}) });
      headers['content-type'] = request.contentType;
      tried++;
      const sentAt = performance.now();

      const problem = await (async (): Promise<string | undefined> => {
        let response: Response;
        try {
          const body = typeof request.body === 'string' ? request.body : new Uint8Array(request.body);
          response = await fetch(all.services[subgraph].url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        } catch (error) {
          return `no response: ${String(error)}`;
        }
        const text = await response.text();
        if (response.status >= 500) return `status ${response.status}: ${text.slice(0, 200)}`;
        if (/\bat [^\s]+ \(|\.ts:\d+|\.js:\d+|stacktrace/i.test(text)) return `stack trace in: ${text.slice(0, 200)}`;
        let body: { data?: unknown; errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> };
        try {
          body = JSON.parse(text);
        } catch {
          return `not JSON (status ${response.status}): ${text.slice(0, 200)}`;
        }
        if (!('data' in body) && !body.errors?.length) return `neither data nor errors: ${text.slice(0, 200)}`;
        for (const error of body.errors ?? []) {
          if (typeof error.message !== 'string' || !KNOWN_CODES.has(String(error.extensions?.code))) {
            return `unknown error code ${String(error.extensions?.code)}: ${text.slice(0, 200)}`;
          }
        }
        return undefined;
      })();
      const kind = kinds.get(request.kind) ?? { count: 0, slowestMs: 0 };
      kinds.set(request.kind, { count: kind.count + 1, slowestMs: Math.max(kind.slowestMs, Math.round(performance.now() - sentAt)) });
      if (problem) {
        crashes++;
        failures.push(`#${tried} ${subgraph} ${request.kind}: ${problem}`);
      }
    }

    for (const subgraph of SUBGRAPHS) {
      const health = await fetch(new URL('/health', all.services[subgraph].url));
      expect(health.status, `${subgraph} /health after fuzzing`).toBe(200);
    }
    console.log(
      `fuzz (seed ${SEED}): ${tried} inputs tried in ${Date.now() - started} ms, ${crashes} crashes; by kind: ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
    expect(failures).toEqual([]);
  }, 120_000);
});
