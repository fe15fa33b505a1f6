import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, ConnectorDeps } from '../../subgraphs/destination/connectors/connector.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { sha256Email } from '../../subgraphs/destination/connectors/linkedin/hashEmail.js';
import { startLinkedInMock, type LinkedInMock } from '../mocks/linkedinMock.js';
import { account, batchOf, connectorDeps, fakeClock, person, statusesOf, type FakeClock } from './support.js';

describe('SHA-256 of emails, as LinkedIn matches them', () => {
  it('matches published test vectors', () => {
    expect(sha256Email('test@example.com')).toBe('973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b');
    // FIPS 180-2's "abc" vector: the hash itself is plain SHA-256 of the UTF-8 text.
    expect(sha256Email('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('trims and lowercases first, and always answers 64 lowercase hex characters', () => {
    expect(sha256Email('  Test@Example.COM \n')).toBe(sha256Email('test@example.com'));
    expect(sha256Email('ÉLODIE@exemple.fr')).toBe(sha256Email('élodie@exemple.fr'));
    expect(sha256Email('a@b.co')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('LinkedIn connector against the LinkedIn mock', () => {
  let clock: FakeClock;
  let mock: LinkedInMock;
  let deps: ConnectorDeps;

  const connect = (accessToken = mock.accessToken, overrides: Partial<ConnectorDeps> = {}): Connector =>
    createConnector({ type: 'LINKEDIN', config: { apiUrl: mock.apiUrl, adAccount: mock.adAccount }, credentials: { accessToken } }, { ...deps, ...overrides });

  beforeEach(async () => {
    clock = fakeClock();
    mock = await startLinkedInMock();
    deps = connectorDeps(clock);
  });
  afterEach(async () => {
    await mock.close();
  });

  it('creates the DMP segment once, then adds and removes people by hashed email', async () => {
    const connector = connect();
    const segmentId = await connector.ensureAudience!({ name: 'VPs at software companies', memberType: 'PERSON' });
    expect(mock.state.segments.get(segmentId)).toMatchObject({ type: 'USER', account: `urn:li:sponsoredAccount:${mock.adAccount}` });
    expect(await connector.ensureAudience!({ name: 'again', memberType: 'PERSON', existingId: segmentId })).toBe(segmentId);
    expect(mock.state.segments.size).toBe(1);

    const options = { dmpSegmentId: segmentId };
    const added = await connector.deliver(
      batchOf({
        options,
        adds: [person('p1', 'Ada@Example.com '), person('p2', 'bob@example.com'), person('p3', 'eve@example.com', { consentMarketingEmail: 'n' }), person('p4', null)],
      }),
    );
    expect(statusesOf(added)).toEqual({ p1: 'delivered', p2: 'delivered', p3: 'excluded', p4: 'failed:MISSING_IDENTITY' });
    const members = mock.state.segments.get(segmentId)!.members;
    expect([...members].sort()).toEqual([sha256Email('ada@example.com'), sha256Email('bob@example.com')].sort());
    const stream = mock.state.requests.find((r) => r.path.endsWith('/users'))!;
    expect(stream.headers).toMatchObject({ 'x-restli-method': 'BATCH_CREATE', 'linkedin-version': expect.stringMatching(/^\d{6}$/), authorization: `Bearer ${mock.accessToken}` });
    expect(JSON.stringify(mock.state.requests)).not.toContain('@example.com');

    // Twice is harmless; removing someone absent too.
    await connector.deliver(batchOf({ options, adds: [person('p1', 'ada@example.com')] }));
    const removed = await connector.deliver(batchOf({ options, removes: [person('p1', 'ada@example.com'), person('p9', 'never@example.com')] }));
    expect(removed.counts.removed).toBe(2);
    expect([...members]).toEqual([sha256Email('bob@example.com')]);
    expect(mock.state.refused).toEqual({ rate: 0, invalid: 0, auth: 0 });
  });

  it('sends account audiences to a company list by name and website domain', async () => {
    const connector = connect();
    const segmentId = await connector.ensureAudience!({ name: 'Target accounts', memberType: 'ACCOUNT' });
    const outcome = await connector.deliver(
      batchOf({
        memberType: 'ACCOUNT',
        options: { dmpSegmentId: segmentId },
        adds: [account('a1', 'Acme Corp', 'acme.example'), account('a2', 'Globex', null), account('a3', null, null)],
        removes: [account('a4', 'Initech', 'initech.example')],
      }),
    );
    expect(statusesOf(outcome)).toEqual({ a1: 'delivered', a2: 'delivered', a3: 'failed:MISSING_IDENTITY', a4: 'removed' });
    expect([...mock.state.segments.get(segmentId)!.members].sort()).toEqual(['Acme Corp|acme.example', 'Globex|']);
  });

  it('splits batches at 5000 elements', async () => {
    const segmentId = mock.createSegment('USER');
    const adds = Array.from({ length: 5001 }, (_, i) => person(`p${i}`, `p${i}@example.com`));
    const outcome = await connect().deliver(batchOf({ options: { dmpSegmentId: segmentId }, adds }));
    expect(outcome.counts.delivered).toBe(5001);
    const sizes = mock.state.requests.filter((r) => r.path.endsWith('/users')).map((r) => (r.body as { elements: unknown[] }).elements.length);
    expect(sizes).toEqual([5000, 1]);
  });

  it('waits as long as Retry-After says on 429, then succeeds', async () => {
    const segmentId = mock.createSegment('USER');
    mock.failNext(429, 2, { 'retry-after': '7' });
    const outcome = await connect().deliver(batchOf({ options: { dmpSegmentId: segmentId }, adds: [person('p1', 'ada@example.com')] }));
    expect(outcome.counts.delivered).toBe(1);
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps.filter((ms) => ms < 7000)).toEqual([]);
  });

  it('reports the per-member limit as a retryable failure when it persists', async () => {
    await mock.close();
    // The mock's clock stands still while the connector's moves on its waits, so no wait ends the window.
    const frozenAt = clock.millis();
    mock = await startLinkedInMock({ usersPerWindow: 1, now: () => frozenAt });
    const segmentId = mock.createSegment('USER');
    const connector = connect(mock.accessToken, { maxAttempts: 2 });
    await connector.deliver(batchOf({ options: { dmpSegmentId: segmentId }, adds: [person('p1', 'a@example.com')] }));
    const outcome = await connector.deliver(batchOf({ options: { dmpSegmentId: segmentId }, adds: [person('p2', 'b@example.com')] }));
    expect(outcome.results[0]).toMatchObject({ status: 'failed', code: 'LINKEDIN_TOO_MANY_REQUESTS', retryable: true });
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(1000);
  });

  it('needs a segment id to deliver, and names a bad token on testConnection', async () => {
    const outcome = await connect().deliver(batchOf({ adds: [person('p1', 'a@example.com')] }));
    expect(outcome.results[0]).toMatchObject({ status: 'failed', code: 'INVALID_OPTIONS', retryable: false });
    expect(await connect().testConnection()).toEqual({ ok: true });
    expect(await connect('expired-token').testConnection()).toEqual({ ok: false, code: 'LINKEDIN_INVALID_ACCESS_TOKEN', message: 'Invalid access token' });
    expect(mock.state.requests.length).toBeGreaterThan(0);
    expect(mock.state.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
