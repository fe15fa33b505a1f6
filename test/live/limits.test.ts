/**
 * What bounds live subscriptions at the gateway: caps per connection and per
 * key (LIMIT_EXCEEDED), a slow consumer closed with 4413 SLOW_CONSUMER that
 * resumes from its cursor, and subscriptions ended when their key is revoked or
 * their sandbox deleted. Small limits are configured so the suite stays quick.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveCloseCode } from '../../lib/subgraph/websocket.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { liveClient, type LiveClient, type LiveSubscription } from './liveClient.js';
import { EventLog, MEMBERSHIP_CHANGED, createSegment, type MembershipChanged } from './support.js';

// Above a batch of 50 events arriving at once, far below what the slow client leaves waiting.
const QUEUE_LIMIT = 100;
/** Fields of the event itself only: no member to fetch from other subgraphs, so hundreds pass quickly. */
const LIGHT = 'subscription ($segmentId: ID!, $after: String) { segmentMembershipChanged(segmentId: $segmentId, after: $after) { cursor memberId } }';

let platform: TestPlatform;
let client: MongoClient;
const clients: LiveClient[] = [];

beforeAll(async () => {
  [platform, client] = await Promise.all([
    startTestPlatform({
      env: {
        CDP_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
        CDP_MAX_SUBSCRIPTIONS_PER_KEY: '3',
        CDP_MAX_WS_CONNECTIONS_PER_KEY: '2',
        CDP_SUBSCRIPTION_QUEUE_LIMIT: String(QUEUE_LIMIT),
        CDP_WS_KEY_RECHECK_MS: '200',
      },
    }),
    connectTestClient(),
  ]);
});

afterAll(async () => {
  await Promise.all(clients.map((live) => live.dispose()));
  await client?.close();
  await platform?.stop();
});

function connect(params: Record<string, string>): LiveClient {
  const live = liveClient(platform.wsUrl, params);
  clients.push(live);
  return live;
}

/** An event, or the code of the error that refused the subscription. */
function outcome(subscription: LiveSubscription<MembershipChanged>): Promise<string> {
  return new Promise((resolve) => {
    subscription.take(1).then(() => resolve('event'), () => {});
    void subscription.failed().then((errors) => resolve((errors as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code ?? JSON.stringify(errors)));
  });
}

async function liveSegment(sandbox: string): Promise<{ segmentId: string; log: EventLog; after: string }> {
  const segmentId = await createSegment(platform, sandbox, uniqueName('seg '));
  const log = new EventLog(client, platform, sandbox);
  return { segmentId, log, after: encodeCursor(await log.repository.lastPosition()) };
}

describe('live subscription limits', () => {
  it('caps subscriptions per connection and per key, and connections per key', async () => {
    const sandbox = uniqueName('caps-');
    const { segmentId, log, after } = await liveSegment(sandbox);
    const params = await platform.connectionParams(sandbox, 'viewer');

    const first = connect(params);
    const onFirst = [1, 2, 3].map(() => first.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after }));
    const second = connect(params);
    const onSecond = [1, 2].map(() => second.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after }));
    const outcomes = Promise.all([...onFirst, ...onSecond].map(outcome));
    await log.append(log.event(segmentId, 'prof_1'));
    const [a, b, c, d, e] = await outcomes;
    // Two per connection: the first connection's third is refused.
    expect([a, b, c].sort()).toEqual(['LIMIT_EXCEEDED', 'event', 'event']);
    // Three per key: the second connection gets one.
    expect([d, e].sort()).toEqual(['LIMIT_EXCEEDED', 'event']);

    // Two connections per key: a third is closed with its own code.
    const third = connect(params);
    third.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after });
    const closed = await third.closed;
    expect(closed.code).toBe(LiveCloseCode.ConnectionLimitExceeded);
    expect(closed.reason).toMatch(/^LIMIT_EXCEEDED: /);

    // Another key of the same sandbox has caps of its own.
    const other = connect(await platform.connectionParams(sandbox, 'editor'));
    expect(await outcome(other.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after }))).toBe('event');
  });

  it('closes a client that stops reading with SLOW_CONSUMER; it resumes from its cursor and misses nothing', async () => {
    const sandbox = uniqueName('slow-');
    const { segmentId, log, after } = await liveSegment(sandbox);
    // Large events (the segment's 200-character name, many times over) fill socket buffers quickly.
    await platform.query('mutation ($id: ID!, $name: String!) { updateSegment(id: $id, input: { name: $name }) { id } }', { id: segmentId, name: 'x'.repeat(200) }, { sandbox });
    const heavy = `subscription ($segmentId: ID!, $after: String) {
      segmentMembershipChanged(segmentId: $segmentId, after: $after) {
        cursor memberId ${Array.from({ length: 90 }, (_, i) => `s${i}: segment { name }`).join(' ')}
      }
    }`;
    const slow = connect(await platform.connectionParams(sandbox, 'viewer'));
    const events = slow.subscribe<MembershipChanged>(heavy, { segmentId, after });
    // A second, fast client on the same segment shows how far the gateway has got.
    const fast = connect(await platform.connectionParams(sandbox, 'editor'));
    const progress = fast.subscribe<MembershipChanged>(LIGHT, { segmentId, after });
    await log.append(log.event(segmentId, 'prof_first'));
    await Promise.all([events.take(1), progress.take(1)]);
    slow.pauseReading();

    // Far more than socket buffers hold (about 12 MB of events), at the pace the fast client reads:
    // it never falls behind, while the slow one's events pile up.
    const written = ['prof_first'];
    for (let batch = 0; batch < 12; batch++) {
      const members = Array.from({ length: 50 }, (_, i) => `prof_${batch}_${i}`);
      await log.append(...members.map((member) => log.event(segmentId, member)));
      written.push(...members);
      await progress.take(written.length);
    }
    // The gateway has given up on the slow client by now; reading again drains what the
    // socket held, then the close frame.
    slow.resumeReading();
    const { code, reason } = await slow.closed;
    expect(code).toBe(LiveCloseCode.SlowConsumer);
    expect(reason).toMatch(/^SLOW_CONSUMER: /);
    const received = events.events.map((event) => event.segmentMembershipChanged);
    expect(received.length).toBeLessThan(written.length);

    // Resuming from the last cursor it received starts right after it (suites in
    // membershipChanges.test.ts show a resume delivers everything once).
    const resumed = connect(await platform.connectionParams(sandbox, 'viewer'));
    const rest = resumed.subscribe<MembershipChanged>(LIGHT, { segmentId, after: received.at(-1)!.cursor });
    const [next] = await rest.take(1);
    expect(next!.segmentMembershipChanged.memberId).toBe(written[received.length]);
    expect(received.map((event) => event.memberId)).toEqual(written.slice(0, received.length));
  });

  it('ends the subscriptions of a revoked key and of a deleted sandbox within seconds', async () => {
    const sandbox = uniqueName('revoke-');
    const doomed = uniqueName('doomed-');
    const { segmentId, log, after } = await liveSegment(sandbox);
    const { segmentId: doomedSegment, log: doomedLog, after: doomedAfter } = await liveSegment(doomed);

    const adminKey = await platform.keyFor(sandbox, 'admin');
    const admin = await platform.tenancy.authenticate(adminKey);
    const created = await platform.tenancy.createApiKey(admin, { name: 'dashboard', role: 'viewer' });
    const revoked = connect({ authorization: `Bearer ${created.key}` });
    const revokedEvents = revoked.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after });
    const deleted = connect(await platform.connectionParams(doomed, 'viewer'));
    const deletedEvents = deleted.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId: doomedSegment, after: doomedAfter });
    await Promise.all([log.append(log.event(segmentId, 'prof_1')), doomedLog.append(doomedLog.event(doomedSegment, 'prof_1'))]);
    await Promise.all([revokedEvents.take(1), deletedEvents.take(1)]);

    await platform.tenancy.revokeApiKey(admin, created.apiKey.id);
    const platformAdmin = await platform.tenancy.authenticate(await platform.keyFor('default', 'admin'));
    await platform.tenancy.deleteSandbox(platformAdmin, doomed);

    for (const closed of await Promise.all([revoked.closed, deleted.closed])) {
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^UNAUTHENTICATED: /);
    }
  });
});
