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

/**
 * The subscription reaches the segment subgraph (and its change stream opens)
 * shortly after the client subscribes, so segments are created until the first
 * event arrives; the event must be one of them.
 */
async function createSegmentsUntilEvent(
  sandbox: string,
  subscription: CollectedSubscription<ChangeEvent>,
): Promise<{ event: ChangeEvent; created: Map<string, string> }> {
  const created = new Map<string, string>();
  for (let attempt = 0; attempt < 10; attempt++) {
    const next = subscription.next(1_500);
    next.catch(() => {}); // awaited below; a timeout before then is not an unhandled rejection
    const name = `VPs ${attempt}`;
    const result = await platform.query(
      CREATE_SEGMENT,
      { input: { name, expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' } },
      { sandbox },
    );
    expect(result.errors).toBeUndefined();
    created.set(result.data.createSegment.id, name);
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
      const { event, created } = await createSegmentsUntilEvent(sandbox, mine);
      const { kind, segmentId, segment } = event.segmentDefinitionChanged;
      expect(kind).toBe('CREATED');
      expect(created.has(segmentId)).toBe(true);
      expect(segment).toEqual({ name: created.get(segmentId) });
      expect(mine.errors).toEqual([]);

      // Give any misrouted event time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(theirs.events).toEqual([]);
      expect(theirs.errors).toEqual([]);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
    }
  });
});
