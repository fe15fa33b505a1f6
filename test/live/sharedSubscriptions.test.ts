/** Identical subscriptions started together share one execution; nothing else changes for their clients. */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { useSharedSubscriptions } from '../../gateway/live/sharedSubscriptions.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { fakeUpstream, membershipEvent as event, stream, type FakeUpstream } from './fakeUpstream.js';
import { liveClient, type LiveClient } from './liveClient.js';
import { EventLog, MEMBERSHIP_CHANGED, createPersonWithAccount, createSegment, type MembershipChanged } from './support.js';

const QUERY = 'subscription ($segmentId: ID!) { segmentMembershipChanged(segmentId: $segmentId) { cursor } }';
const DOCUMENT = parse(QUERY);

interface Who {
  sandbox?: string;
  role?: string;
  segmentId?: string;
  query?: string;
}

/** The plugin in front of a gateway whose executions are `upstreams`. */
function gateway(options: { maxQueuedPerSubscriber?: number; onOverflow?: (context: unknown) => void } = {}) {
  const plugin = useSharedSubscriptions({ maxQueuedPerSubscriber: options.maxQueuedPerSubscriber, onOverflow: options.onOverflow });
  const upstreams: FakeUpstream[] = [];
  const execute = () => {
    const opened = fakeUpstream();
    upstreams.push(opened);
    return opened.iterator;
  };
  // As envelop does: every plugin's onSubscribe, then the subscribe function they settled on.
  const subscribe = async (who: Who = {}) => {
    const args = {
      document: DOCUMENT,
      variableValues: { segmentId: who.segmentId ?? 'seg-1' },
      contextValue: { params: { query: who.query ?? QUERY }, identity: { principal: { sandbox: who.sandbox ?? 'acme', role: who.role ?? 'viewer', keyId: 'k1' } } },
    };
    let subscribeFn: (args: unknown) => unknown = execute;
    plugin.onSubscribe!({ args, subscribeFn, setSubscribeFn: (next: typeof subscribeFn) => (subscribeFn = next) } as never);
    return (await subscribeFn(args)) as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
  };
  return { subscribe, upstreams };
}

describe('shared subscriptions', () => {
  it('gives identical subscriptions started together one execution, and each of them every event', async () => {
    const { subscribe, upstreams } = gateway();
    const first = stream(await subscribe());
    const second = stream(await subscribe());
    expect(upstreams).toHaveLength(1);
    upstreams[0]!.push(event('c1'));
    expect(await first.next()).toEqual({ value: event('c1'), done: false });
    expect(await second.next()).toEqual({ value: event('c1'), done: false });
  });

  it('never shares between sandboxes, roles, variables or documents', async () => {
    const { subscribe, upstreams } = gateway();
    await subscribe({ sandbox: 'acme' });
    await subscribe({ sandbox: 'globex' });
    await subscribe({ role: 'admin' });
    await subscribe({ segmentId: 'seg-2' });
    await subscribe({ query: QUERY.replace('subscription', 'subscription Named') });
    expect(upstreams).toHaveLength(5);
  });

  it('tells of a subscriber that stops reading with its own context', async () => {
    const overflowed: unknown[] = [];
    const { subscribe, upstreams } = gateway({ maxQueuedPerSubscriber: 1, onOverflow: (context) => overflowed.push(context) });
    const idle = stream(await subscribe());
    upstreams[0]!.push(event('c1'));
    upstreams[0]!.push(event('c2'));
    await new Promise((resolve) => setImmediate(resolve)); // the execution is read as it produces
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'LIMIT_EXCEEDED' } });
    expect(overflowed).toEqual([expect.objectContaining({ identity: { principal: expect.objectContaining({ sandbox: 'acme', role: 'viewer' }) } })]);
  });
});

describe('identical subscriptions through the gateway', () => {
  let platform: TestPlatform;
  let client: MongoClient;
  const clients: LiveClient[] = [];
  /** Subscriptions the gateway was asked for, and those it opened on the segment subgraph. */
  const counts = { subscribed: 0, subgraphSubscriptions: 0 };
  const counting: GatewayPlugin = {
    onSubscribe() {
      counts.subscribed++;
    },
    onSubgraphExecute({ subgraphName, executionRequest }) {
      if (subgraphName === 'segment' && executionRequest.operationType === 'subscription') counts.subgraphSubscriptions++;
    },
  };

  beforeAll(async () => {
    [platform, client] = await Promise.all([startTestPlatform({ gatewayPlugins: [counting] }), connectTestClient()]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((live) => live.dispose()));
    await client?.close();
    await platform?.stop();
  });

  it('share one execution: one subgraph subscription, every event to each client with its members\' fields', async () => {
    const sandbox = uniqueName('shared-');
    const { personId } = await createPersonWithAccount(
      platform,
      sandbox,
      { firstName: 'Grace', workEmail: 'grace@navy.example', jobTitle: 'VP Compilers' },
      { name: 'Navy Labs', domain: 'navy.example', industry: 'Defense' },
    );
    const segmentId = await createSegment(platform, sandbox, 'VPs');
    const log = new EventLog(client, platform, sandbox);
    const variables = { segmentId, after: encodeCursor(await log.repository.lastPosition()) };
    const before = { ...counts };
    const connections = await Promise.all([1, 2, 3].map(async () => liveClient(platform.wsUrl, await platform.connectionParams(sandbox, 'viewer'))));
    clients.push(...connections);
    const identical = connections.map((live) => live.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, variables));
    // Another selection of the same segment is another execution.
    const other = connections[0]!.subscribe<{ segmentMembershipChanged: { cursor: string } }>(
      'subscription ($segmentId: ID!, $after: String) { segmentMembershipChanged(segmentId: $segmentId, after: $after) { cursor } }',
      variables,
    );
    await vi.waitFor(() => {
      expect(counts.subscribed - before.subscribed).toBe(4);
      expect(counts.subgraphSubscriptions - before.subgraphSubscriptions).toBe(2);
    });

    await log.append(log.event(segmentId, personId));
    for (const subscription of identical) {
      const [event] = await subscription.take(1);
      expect(event!.segmentMembershipChanged).toMatchObject({
        status: 'REALIZED',
        profile: { id: personId, workEmail: 'grace@navy.example', account: { name: 'Navy Labs', industry: 'Defense' } },
      });
    }
    const [plain] = await other.take(1);
    expect(plain!.segmentMembershipChanged.cursor).toBe((await identical[0]!.take(1))[0]!.segmentMembershipChanged.cursor);
    expect(counts.subgraphSubscriptions - before.subgraphSubscriptions).toBe(2);
  });
});
