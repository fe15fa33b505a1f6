/** Identical subscriptions started together share one execution; nothing else changes for their clients. */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { useSharedSubscriptions } from '../../gateway/live/sharedSubscriptions.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { liveClient, type LiveClient } from './liveClient.js';
import { EventLog, MEMBERSHIP_CHANGED, createPersonWithAccount, createSegment, type MembershipChanged } from './support.js';

const QUERY = 'subscription ($segmentId: ID!) { segmentMembershipChanged(segmentId: $segmentId) { cursor } }';
const DOCUMENT = parse(QUERY);

/** An execution the test feeds by hand. */
interface Upstream {
  push(result: ExecutionResult): void;
  readonly returned: boolean;
  readonly iterator: AsyncIterableIterator<ExecutionResult>;
}

function upstream(): Upstream {
  const values: ExecutionResult[] = [];
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  let returned = false;
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    next() {
      if (values.length > 0) return Promise.resolve({ value: values.shift()!, done: false });
      if (returned) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      returned = true;
      waiting?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    push(result) {
      const resolve = waiting;
      waiting = undefined;
      if (resolve) resolve({ value: result, done: false });
      else values.push(result);
    },
    get returned() {
      return returned;
    },
  };
}

interface Who {
  sandbox?: string;
  role?: string;
  segmentId?: string;
}

/** The plugin in front of a gateway whose executions are `upstreams`, or answered by `answer`. */
function gateway(options: { maxQueuedPerSubscriber?: number; answer?: () => Promise<ExecutionResult>; onOverflow?: (context: unknown) => void } = {}) {
  const plugin = useSharedSubscriptions({ maxQueuedPerSubscriber: options.maxQueuedPerSubscriber, onOverflow: options.onOverflow });
  const upstreams: Upstream[] = [];
  const execute = () => {
    if (options.answer) return options.answer();
    const opened = upstream();
    upstreams.push(opened);
    return opened.iterator;
  };
  // As envelop does: every plugin's onSubscribe, then the subscribe function they settled on.
  const subscribe = async (who: Who = {}) => {
    const args = {
      document: DOCUMENT,
      variableValues: { segmentId: who.segmentId ?? 'seg-1' },
      contextValue: { params: { query: QUERY }, identity: { principal: { sandbox: who.sandbox ?? 'acme', role: who.role ?? 'viewer', keyId: 'k1' } } },
    };
    let subscribeFn: (args: unknown) => unknown = execute;
    plugin.onSubscribe!({ args, subscribeFn, setSubscribeFn: (next: typeof subscribeFn) => (subscribeFn = next) } as never);
    return (await subscribeFn(args)) as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
  };
  return { subscribe, upstreams };
}

const event = (cursor: string): ExecutionResult => ({ data: { segmentMembershipChanged: { cursor } } });

function stream(value: AsyncIterableIterator<ExecutionResult> | ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  if (!(Symbol.asyncIterator in value)) throw new Error('expected a stream');
  return value;
}

describe('shared subscriptions', () => {
  it('gives identical subscriptions started together one execution, and each of them every event', async () => {
    const { subscribe, upstreams } = gateway();
    const first = stream(await subscribe());
    const second = stream(await subscribe());
    expect(upstreams).toHaveLength(1);
    upstreams[0]!.push(event('c1'));
    upstreams[0]!.push(event('c2'));
    expect(await first.next()).toEqual({ value: event('c1'), done: false });
    expect(await first.next()).toEqual({ value: event('c2'), done: false });
    expect(await second.next()).toEqual({ value: event('c1'), done: false });
    expect(await second.next()).toEqual({ value: event('c2'), done: false });
  });

  it('opens a new execution for a subscription that starts after the first event was sent', async () => {
    const { subscribe, upstreams } = gateway();
    const early = stream(await subscribe());
    upstreams[0]!.push(event('c1'));
    await early.next();
    const late = stream(await subscribe());
    expect(upstreams).toHaveLength(2);
    upstreams[1]!.push(event('c2'));
    expect(await late.next()).toEqual({ value: event('c2'), done: false });
  });

  it('opens a new execution once the join window has passed, even when nothing was sent', async () => {
    vi.useFakeTimers();
    try {
      const { subscribe, upstreams } = gateway();
      await subscribe();
      vi.advanceTimersByTime(999);
      await subscribe();
      expect(upstreams).toHaveLength(1);
      vi.advanceTimersByTime(1);
      await subscribe();
      expect(upstreams).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never shares between sandboxes, roles or different variables', async () => {
    const { subscribe, upstreams } = gateway();
    await subscribe({ sandbox: 'acme' });
    await subscribe({ sandbox: 'globex' });
    await subscribe({ role: 'admin' });
    await subscribe({ segmentId: 'seg-2' });
    expect(upstreams).toHaveLength(4);
  });

  it('ends the execution when its last subscriber leaves, not when the one that started it does', async () => {
    const { subscribe, upstreams } = gateway();
    const opener = stream(await subscribe());
    const other = stream(await subscribe());
    await opener.return!();
    expect(await opener.next()).toEqual({ value: undefined, done: true });
    expect(upstreams[0]!.returned).toBe(false);
    upstreams[0]!.push(event('c1'));
    expect(await other.next()).toEqual({ value: event('c1'), done: false });
    await other.return!();
    expect(upstreams[0]!.returned).toBe(true);
  });

  it('ends a subscriber that stops reading with LIMIT_EXCEEDED, and says so with its context, while the others go on', async () => {
    const overflowed: unknown[] = [];
    const { subscribe, upstreams } = gateway({ maxQueuedPerSubscriber: 2, onOverflow: (context) => overflowed.push(context) });
    const reader = stream(await subscribe({ role: 'viewer' }));
    const idle = stream(await subscribe({ role: 'viewer' }));
    for (const cursor of ['c1', 'c2', 'c3', 'c4']) {
      const next = reader.next();
      upstreams[0]!.push(event(cursor));
      expect(await next).toEqual({ value: event(cursor), done: false });
    }
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'LIMIT_EXCEEDED' } });
    expect(overflowed).toHaveLength(1);
    expect(overflowed[0]).toMatchObject({ identity: { principal: { sandbox: 'acme' } } });
    expect(upstreams[0]!.returned).toBe(false);
  });

  it('hands a refusal to every subscription that asked', async () => {
    const refusal: ExecutionResult = { errors: [{ message: 'No segment seg-1', extensions: { code: 'NOT_FOUND' } }] as never };
    let calls = 0;
    const { subscribe } = gateway({ answer: async () => (calls++, refusal) });
    const [first, second] = await Promise.all([subscribe(), subscribe()]);
    expect(calls).toBe(1);
    expect(first).toBe(refusal);
    expect(second).toBe(refusal);
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
