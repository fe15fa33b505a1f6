import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorDeps } from '../../subgraphs/destination/connectors/connector.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { signWebhookBody, verifyWebhookSignature } from '../../subgraphs/destination/connectors/webhook/signature.js';
import { startWebhookReceiver, type WebhookReceiver } from '../mocks/webhookReceiver.js';
import { batchOf, connectorDeps, fakeClock, person, statusesOf, type FakeClock } from './support.js';

const SECRET = 'whsec_test_secret';

describe('webhook signatures', () => {
  const body = '{"events":[]}';
  const t = 1_767_000_000;

  it('verifies its own signature, and refuses a changed body, another secret, a stale or future timestamp, and garbage', () => {
    const header = signWebhookBody(SECRET, body, t);
    expect(header).toMatch(/^t=1767000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, header, body, t + 10)).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(SECRET, header, '{"events":[1]}', t)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifyWebhookSignature('other', header, body, t)).toEqual({ ok: false, reason: 'MISMATCH' });
    expect(verifyWebhookSignature(SECRET, header, body, t + 301)).toEqual({ ok: false, reason: 'STALE' });
    expect(verifyWebhookSignature(SECRET, header, body, t - 301)).toEqual({ ok: false, reason: 'STALE' });
    expect(verifyWebhookSignature(SECRET, 'v1=abc', body, t)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifyWebhookSignature(SECRET, undefined, body, t)).toEqual({ ok: false, reason: 'MALFORMED' });
  });

  it('is HMAC-SHA256 of "<t>.<body>" in hex', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    expect(signWebhookBody(SECRET, body, t)).toBe(`t=${t},v1=${expected}`);
  });
});

describe('webhook connector against a verifying receiver', () => {
  let clock: FakeClock;
  let receiver: WebhookReceiver;
  let deps: ConnectorDeps;

  const connect = (overrides: Partial<ConnectorDeps> = {}, secret = SECRET, config: Record<string, number> = {}) =>
    createConnector({ type: 'WEBHOOK', config: { url: `${receiver.url}/hooks/cdp`, ...config }, credentials: { signingSecret: secret } }, { ...deps, ...overrides });

  beforeEach(async () => {
    clock = fakeClock(Date.now());
    receiver = await startWebhookReceiver({ secret: SECRET });
    deps = connectorDeps(clock);
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('posts signed enter and exit events with an idempotency key; consent keeps people out', async () => {
    const batch = batchOf({
      mapping: [{ source: 'jobTitle', destination: 'title' }],
      adds: [person('p1', 'ada@example.com', { attributes: { jobTitle: 'VP' } }), person('p2', 'eve@example.com', { consentMarketingEmail: 'n' })],
      removes: [person('p3', 'bob@example.com'), person('p4', 'zed@example.com', { consentMarketingEmail: 'n' })],
    });
    const outcome = await connect().deliver(batch);
    expect(statusesOf(outcome)).toEqual({ p1: 'delivered', p2: 'excluded', p3: 'removed', p4: 'removed' });
    expect(receiver.state.rejected).toEqual([]);
    const [delivery] = receiver.state.deliveries;
    expect(delivery!.idempotencyKey).toMatch(/^[0-9a-f]{64}$/);
    expect(delivery!.body).toMatchObject({ activationId: 'act_1', segmentId: 'seg_1', runId: 'run_1' });
    expect(delivery!.events).toEqual([
      expect.objectContaining({ type: 'segment.entered', memberId: 'p1', identities: { email: 'ada@example.com' }, attributes: { title: 'VP' } }),
      expect.objectContaining({ type: 'segment.exited', memberId: 'p3' }),
      // Leaving, a person who refused marketing email is named by id only.
      { id: expect.stringMatching(/^evt_/), type: 'segment.exited', segmentId: 'seg_1', memberId: 'p4', memberType: 'PERSON' },
    ]);
    expect(JSON.stringify(receiver.state.deliveries)).not.toContain('eve@example.com');
    expect(JSON.stringify(receiver.state.deliveries)).not.toContain('zed@example.com');

    // The same batch again carries the same key and event ids, so a receiver can drop the copy.
    await connect().deliver(batch);
    expect(receiver.state.deliveries[1]!.idempotencyKey).toBe(delivery!.idempotencyKey);
    expect(receiver.uniqueEvents()).toHaveLength(3);
  });

  it('retries 5xx with backoff and delivers; gives a retryable failure when the receiver stays down', async () => {
    receiver.failNext(503, 2);
    const batch = batchOf({ adds: [person('p1', 'ada@example.com')] });
    expect((await connect().deliver(batch)).counts.delivered).toBe(1);
    expect(clock.sleeps).toHaveLength(2);
    expect(receiver.state.deliveries).toHaveLength(1);

    receiver.failNext(500, 5);
    const outcome = await connect({ maxAttempts: 3 }).deliver(batch);
    expect(outcome.results[0]).toMatchObject({ status: 'failed', code: 'WEBHOOK_HTTP_500', retryable: true });
  });

  it('is refused, permanently, with a wrong secret or a clock far off (replayed requests look the same)', async () => {
    const batch = batchOf({ adds: [person('p1', 'ada@example.com')] });
    const wrong = await connect({}, 'not-the-secret').deliver(batch);
    expect(wrong.results[0]).toMatchObject({ status: 'failed', code: 'WEBHOOK_HTTP_401', retryable: false });
    clock.advance(-10 * 60 * 1000);
    const stale = await connect().deliver(batch);
    expect(stale.results[0]).toMatchObject({ status: 'failed', code: 'WEBHOOK_HTTP_401', retryable: false });
    expect(receiver.state.rejected.map((r) => r.reason)).toEqual(['signature mismatch', 'stale timestamp']);
    expect(receiver.state.deliveries).toEqual([]);
  });

  it('splits at its batch size and tests the connection with an empty signed ping', async () => {
    const adds = Array.from({ length: 5 }, (_, i) => person(`p${i}`, `p${i}@example.com`));
    await connect({}, SECRET, { maxBatchSize: 2 }).deliver(batchOf({ adds }));
    expect(receiver.state.deliveries.map((d) => d.events.length)).toEqual([2, 2, 1]);
    expect(new Set(receiver.state.deliveries.map((d) => d.idempotencyKey)).size).toBe(3);

    expect(await connect().testConnection()).toEqual({ ok: true });
    expect(receiver.state.deliveries.at(-1)!.events).toEqual([]);
    expect(await connect({}, 'nope').testConnection()).toMatchObject({ ok: false, code: 'WEBHOOK_HTTP_401' });
  });
});
