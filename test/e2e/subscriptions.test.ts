/**
 * A graphql-ws client subscribed through the gateway receives the segment
 * subgraph's events, in its own sandbox only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribe, type CollectedSubscription } from '../gateway/support/wsClient.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});

afterAll(async () => {
  await platform?.stop();
});

interface ChangeEvent {
  segmentDefinitionChanged: { kind: string; segmentId: string; segment: { name: string } | null };
}

const SEGMENT_CHANGED = /* GraphQL */ `
  subscription { segmentDefinitionChanged { kind segmentId segment { name } } }
`;
const CREATE_SEGMENT = /* GraphQL */ `
  mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id name } }
`;

async function createSegment(sandbox: string, name: string): Promise<string> {
  const result = await platform.query(
    CREATE_SEGMENT,
    { input: { name, expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' } },
    { sandbox },
  );
  expect(result.errors).toBeUndefined();
  return result.data.createSegment.id;
}

/**
 * The subscription reaches the segment subgraph (and its change stream opens)
 * shortly after the client subscribes, so segments are created until the first
 * event arrives; the event must be one of them.
 */
async function createSegmentsUntilEvent(
  sandbox: string,
  subscription: CollectedSubscription<ChangeEvent>,
  label: string,
): Promise<{ event: ChangeEvent; created: Map<string, string> }> {
  const created = new Map<string, string>();
  for (let attempt = 0; attempt < 10; attempt++) {
    const next = subscription.next(1_500);
    next.catch(() => {}); // awaited below; a timeout before then is not an unhandled rejection
    const name = `${label} ${attempt}`;
    created.set(await createSegment(sandbox, name), name);
    try {
      return { event: await next, created };
    } catch {
      // Not subscribed yet on the subgraph side: try again.
    }
  }
  throw new Error(`no segmentDefinitionChanged event (errors: ${JSON.stringify(subscription.errors)})`);
}

describe('subscriptions through the gateway', () => {
  it('delivers segmentDefinitionChanged for createSegment, only to subscribers of that sandbox', async () => {
    const sandbox = uniqueName('subs-a-');
    const other = uniqueName('subs-b-');
    const mine = subscribe<ChangeEvent>(platform.wsUrl, SEGMENT_CHANGED, { connectionParams: await platform.connectionParams(sandbox) });
    const theirs = subscribe<ChangeEvent>(platform.wsUrl, SEGMENT_CHANGED, { connectionParams: await platform.connectionParams(other) });
    try {
      // The other subscriber first proves it hears its own sandbox, so its silence below means something.
      const { created: theirOwn } = await createSegmentsUntilEvent(other, theirs, 'control');

      const { event, created } = await createSegmentsUntilEvent(sandbox, mine, 'VPs');
      const { kind, segmentId, segment } = event.segmentDefinitionChanged;
      expect(kind).toBe('CREATED');
      expect([...created.keys()]).toContain(segmentId);
      expect(segment).toEqual({ name: created.get(segmentId) });
      expect(mine.errors).toEqual([]);

      // A fence in the other sandbox, created after every segment above: events arrive in commit
      // order, so once the fence has reached the other subscriber, a misrouted event would have too.
      theirOwn.set(await createSegment(other, 'fence'), 'fence');
      await expect.poll(() => theirs.events.map((e) => e.segmentDefinitionChanged.segment?.name), { timeout: 5_000 }).toContain('fence');
      const heardByTheirs = theirs.events.map((e) => e.segmentDefinitionChanged.segmentId);
      expect(heardByTheirs.filter((id) => !theirOwn.has(id))).toEqual([]);
      expect(heardByTheirs.filter((id) => created.has(id))).toEqual([]);
      expect(theirs.errors).toEqual([]);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });
});
