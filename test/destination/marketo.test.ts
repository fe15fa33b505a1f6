import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, ConnectorDeps } from '../../subgraphs/destination/connectors/connector.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { startMarketoMock, type MarketoMock } from '../mocks/marketoMock.js';
import { batchOf, budgetDatabase, connectorDeps, fakeClock, person, sharedBudget, statusesOf, type FakeClock } from './support.js';

const LIST = 42;

describe('Marketo connector against the Marketo mock', () => {
  let database: Awaited<ReturnType<typeof budgetDatabase>>;
  let clock: FakeClock;
  let mock: MarketoMock;
  let deps: ConnectorDeps;

  const connect = (overrides: Partial<ConnectorDeps> = {}, credentials = { clientId: mock.clientId, clientSecret: mock.clientSecret }): Connector =>
    createConnector({ type: 'MARKETO', config: { restUrl: mock.restUrl, identityUrl: mock.identityUrl }, credentials }, { ...deps, ...overrides });

  beforeAll(async () => {
    database = await budgetDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    clock = fakeClock();
    mock = await startMarketoMock({ now: clock.millis });
    mock.createList(LIST);
    deps = connectorDeps(clock, { budget: sharedBudget(database.db, { now: clock.now, sleep: clock.sleep }), tokenCache: new Map() });
  });
  afterEach(async () => {
    await mock.close();
  });

  it('adds found leads to the static list and reports each member: not found, several matches, no email, no consent', async () => {
    const ada = mock.addLead({ email: 'ada@example.com' });
    const bob = mock.addLead({ email: 'Bob@Example.com' });
    mock.addLead({ email: 'twin@example.com' });
    mock.addLead({ email: 'twin@example.com' });
    mock.addLead({ email: 'eve@example.com' });
    const outcome = await connect().deliver(
      batchOf({
        options: { listId: LIST },
        adds: [
          person('p1', ' ADA@example.com '),
          person('p2', 'bob@example.com'),
          person('p3', 'nobody@example.com'),
          person('p4', 'twin@example.com'),
          person('p5', null),
          person('p6', 'eve@example.com', { consentMarketingEmail: 'n' }),
        ],
      }),
    );
    expect(statusesOf(outcome)).toEqual({
      p1: 'delivered',
      p2: 'delivered',
      p3: 'failed:MARKETO_1004',
      p4: 'failed:MARKETO_1007',
      p5: 'failed:MISSING_IDENTITY',
      p6: 'excluded',
    });
    expect(outcome.results.filter((r) => r.status === 'failed').map((r) => r.status === 'failed' && r.retryable)).toEqual([false, false, false]);
    expect(outcome.counts).toEqual({ delivered: 2, removed: 0, failed: 3, excluded: 1 });
    expect([...mock.state.lists.get(LIST)!].sort()).toEqual([ada, bob].sort());
    // The person who refused marketing email was never looked up or sent, though Marketo knows her.
    expect(JSON.stringify(mock.state.calls)).not.toContain('eve@example.com');
  });

  it('is idempotent: the same adds twice leave the list as once, and removing absent people is harmless', async () => {
    const ada = mock.addLead({ email: 'ada@example.com' });
    const connector = connect();
    const adds = batchOf({ options: { listId: LIST }, adds: [person('p1', 'ada@example.com')] });
    await connector.deliver(adds);
    const again = await connector.deliver(adds);
    expect(again.counts.delivered).toBe(1);
    expect([...mock.state.lists.get(LIST)!]).toEqual([ada]);

    const bob = mock.addLead({ email: 'bob@example.com' });
    const removal = await connector.deliver(
      batchOf({
        options: { listId: LIST },
        removes: [person('p1', 'ada@example.com'), person('p2', 'bob@example.com'), person('p3', 'ghost@example.com'), person('p4', null)],
      }),
    );
    expect(statusesOf(removal)).toEqual({ p1: 'removed', p2: 'removed', p3: 'removed', p4: 'removed' });
    expect(mock.state.lists.get(LIST)!.size).toBe(0);
    expect(mock.state.leads.has(bob)).toBe(true);
    const removed = await connector.deliver(batchOf({ options: { listId: LIST }, removes: [person('p1', 'ada@example.com')] }));
    expect(removed.counts.removed).toBe(1);
  });

  it('creates missing leads with the mapped fields, splitting every call at 300 records', async () => {
    mock.addLead({ email: 'p0@example.com', title: 'old' });
    const adds = Array.from({ length: 650 }, (_, i) =>
      person(`p${i}`, `p${i}@example.com`, { attributes: { jobTitle: `Title ${i}`, firstName: `F${i}`, leadScore: i, unmapped: 'x' } }),
    );
    const outcome = await connect().deliver(
      batchOf({
        options: { listId: LIST, createMissingLeads: true },
        mapping: [
          { source: 'jobTitle', destination: 'title' },
          { source: 'firstName', destination: 'firstName' },
          { source: 'leadScore', destination: 'leadScore' },
        ],
        adds,
      }),
    );
    expect(outcome.counts).toEqual({ delivered: 650, removed: 0, failed: 0, excluded: 0 });
    const writes = mock.callsTo('POST', /^\/v1\/leads\.json$/).filter((call) => call.query._method !== 'GET');
    expect(writes.map((call) => (call.body as { input: unknown[] }).input.length)).toEqual([300, 300, 50]);
    expect((writes[0]!.body as Record<string, unknown>).action).toBe('createOrUpdate');
    expect((writes[0]!.body as Record<string, unknown>).lookupField).toBe('email');
    expect(mock.callsTo('POST', /^\/v1\/lists\/42\/leads\.json$/).map((call) => (call.body as { input: unknown[] }).input.length)).toEqual([300, 300, 50]);
    expect(mock.state.refused.batch).toBe(0);
    expect(mock.state.lists.get(LIST)!.size).toBe(650);
    const updated = [...mock.state.leads.values()].find((lead) => lead.email === 'p0@example.com');
    expect(updated).toMatchObject({ title: 'Title 0', firstName: 'F0', leadScore: 0 });
    expect(updated).not.toHaveProperty('unmapped');
  });

  it('records per-record statuses of createOrUpdate as that member failure', async () => {
    mock.addLead({ email: 'twin@example.com' });
    mock.addLead({ email: 'twin@example.com' });
    const outcome = await connect().deliver(
      batchOf({ options: { listId: LIST, createMissingLeads: true }, adds: [person('p1', 'twin@example.com'), person('p2', 'new@example.com')] }),
    );
    expect(statusesOf(outcome)).toEqual({ p1: 'failed:MARKETO_1007', p2: 'delivered' });
  });

  it('uses a lead id known from a Marketo source of the same instance, without a lookup', async () => {
    const id = mock.addLead({ email: 'ada@example.com' });
    const munchkin = new URL(mock.restUrl).host.split('.')[0]!;
    const outcome = await connect().deliver(
      batchOf({ options: { listId: LIST }, adds: [person('p1', null, { identities: { b2b_person: `${id}@${munchkin}.Marketo` } })] }),
    );
    expect(outcome.counts.delivered).toBe(1);
    expect(mock.state.calls.map((call) => `${call.method} ${call.path}`)).toEqual([`POST /v1/lists/${LIST}/leads.json`]);
    // A lead deleted in Marketo since is as good as removed.
    const removal = await connect().deliver(
      batchOf({ options: { listId: LIST }, removes: [person('p1', null, { identities: { b2b_person: `${id}@${munchkin}.Marketo` } }), person('p2', null, { identities: { b2b_person: `999999@${munchkin}.Marketo` } })] }),
    );
    expect(statusesOf(removal)).toEqual({ p1: 'removed', p2: 'removed' });
    expect(mock.state.lists.get(LIST)!.size).toBe(0);
  });

  it('caches the token until it expires, and gets a new one on 601 and 602', async () => {
    mock.addLead({ email: 'ada@example.com' });
    const connector = connect();
    const batch = batchOf({ options: { listId: LIST }, adds: [person('p1', 'ada@example.com')] });
    await connector.deliver(batch);
    await connector.deliver(batch);
    expect(mock.state.tokensIssued).toBe(1);

    clock.advance(3600 * 1000);
    await connector.deliver(batch);
    expect(mock.state.tokensIssued).toBe(2);
    expect(mock.state.calls.filter((call) => call.errorCode === '602')).toEqual([]);

    mock.expireTokens();
    expect((await connector.deliver(batch)).counts.delivered).toBe(1);
    expect(mock.state.calls.filter((call) => call.errorCode === '602')).toHaveLength(1);
    expect(mock.state.tokensIssued).toBe(3);

    mock.failNext('601');
    expect((await connector.deliver(batch)).counts.delivered).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('backs off on 606, 615 and 604 and succeeds; reports a retryable failure once attempts run out', async () => {
    mock.addLead({ email: 'ada@example.com' });
    const batch = batchOf({ options: { listId: LIST }, adds: [person('p1', 'ada@example.com')] });
    mock.failNext('606');
    mock.failNext('615');
    mock.failNext('604');
    expect((await connect({ maxAttempts: 4 }).deliver(batch)).counts.delivered).toBe(1);
    const backoffs = clock.sleeps.splice(0);
    expect(backoffs).toHaveLength(3);
    expect(backoffs[1]!).toBeGreaterThan(backoffs[0]!);
    expect(backoffs[2]!).toBeGreaterThan(backoffs[1]!);

    mock.failNext('606', 10);
    const outcome = await connect({ maxAttempts: 3 }).deliver(batch);
    expect(outcome.results[0]).toMatchObject({ status: 'failed', code: 'MARKETO_606', retryable: true });
  });

  it('reports an outage (5xx) as retryable, and a later delivery after recovery adds each person once', async () => {
    const ada = mock.addLead({ email: 'ada@example.com' });
    const batch = batchOf({ options: { listId: LIST }, adds: [person('p1', 'ada@example.com')] });
    mock.state.outage = true;
    const failed = await connect({ maxAttempts: 2 }).deliver(batch);
    expect(failed.results[0]).toMatchObject({ status: 'failed', code: 'MARKETO_HTTP_503', retryable: true });
    expect(mock.state.lists.get(LIST)!.size).toBe(0);
    mock.state.outage = false;
    expect((await connect().deliver(batch)).counts.delivered).toBe(1);
    expect([...mock.state.lists.get(LIST)!]).toEqual([ada]);
  });

  it('reads the list back page by page, for reconcile', async () => {
    const ids = Array.from({ length: 301 }, (_, i) => mock.addLead({ email: `P${i}@example.com` }));
    mock.createList(LIST, ids);
    const members = [];
    for await (const member of connect().listMembers!({ activationId: 'act_1', memberType: 'PERSON', options: { listId: LIST } })) members.push(member);
    expect(members).toHaveLength(301);
    expect(members[0]).toEqual({ key: 'p0@example.com', externalId: String(ids[0]) });
    expect(mock.callsTo('GET', /^\/v1\/lists\/42\/leads\.json$/)).toHaveLength(2);
  });

  it('checks an activation: a person audience, a list id, at most 50 mapped Marketo fields', () => {
    const connector = connect();
    const many = Array.from({ length: 51 }, (_, i) => ({ source: `attributes.f${i}`, destination: `f${i}` }));
    expect(connector.checkActivation({ memberType: 'PERSON', mapping: [], options: { listId: LIST } })).toEqual([]);
    expect(connector.checkActivation({ memberType: 'ACCOUNT', mapping: many, options: {} })).toEqual([
      'Marketo static lists hold people: activate a person audience',
      'options.listId must be the id of a Marketo static list (a positive integer)',
      'Marketo accepts at most 50 mapped fields (got 51)',
    ]);
    expect(connector.checkActivation({ memberType: 'PERSON', mapping: [{ source: 'a', destination: 'bad name' }], options: { listId: '7' } })).toEqual([
      '"bad name" is not a Marketo field API name (letters, digits and _)',
    ]);
  });

  it('tests the connection without sending data, and names bad credentials', async () => {
    expect(await connect().testConnection()).toEqual({ ok: true });
    expect(mock.state.calls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /v1/lists.json']);
    expect(await connect({}, { clientId: 'wrong', clientSecret: 'nope' }).testConnection()).toEqual({
      ok: false,
      code: 'MARKETO_UNAUTHORIZED',
      message: 'Bad client credentials',
    });
  });
});
