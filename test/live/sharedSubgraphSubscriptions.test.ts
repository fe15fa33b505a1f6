/** Identical subgraph subscriptions started together share one upstream; nothing else changes for their clients. */
import { describe, expect, it, vi } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import { useSharedSubgraphSubscriptions } from '../../gateway/live/sharedSubgraphSubscriptions.js';

const DOCUMENT = parse('subscription ($segmentId: ID!) { segmentMembershipChanged(segmentId: $segmentId) { cursor } }');

/** An upstream subscription the test feeds by hand. */
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
  signal?: AbortSignal;
}

/** The plugin in front of a subgraph whose subscriptions are `upstreams`, or answered by `answer`. */
function gateway(options: { maxQueuedPerSubscriber?: number; answer?: () => Promise<ExecutionResult> } = {}) {
  const plugin = useSharedSubgraphSubscriptions({ maxQueuedPerSubscriber: options.maxQueuedPerSubscriber });
  const upstreams: Upstream[] = [];
  // Like the websocket transport: a request's cancel signal ends the subscription it opened.
  const subgraph = (request: { signal?: AbortSignal }) => {
    if (options.answer) return options.answer();
    const opened = upstream();
    upstreams.push(opened);
    request.signal?.addEventListener('abort', () => void opened.iterator.return!(), { once: true });
    return opened.iterator;
  };
  const subscribe = async (who: Who = {}) => {
    const request = {
      document: DOCUMENT,
      operationType: 'subscription' as const,
      variables: { segmentId: who.segmentId ?? 'seg-1' },
      signal: who.signal,
      context: { identity: { principal: { sandbox: who.sandbox ?? 'acme', role: who.role ?? 'viewer', keyId: 'k1' } } },
    };
    let executor: (request: { signal?: AbortSignal }) => unknown = subgraph;
    plugin.onSubgraphExecute!({ subgraphName: 'segment', executionRequest: request, executor: subgraph, setExecutor: (next: typeof executor) => (executor = next) } as never);
    return (await executor(request)) as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
  };
  return { subscribe, upstreams };
}

const event = (cursor: string): ExecutionResult => ({ data: { segmentMembershipChanged: { cursor } } });

function stream(value: AsyncIterableIterator<ExecutionResult> | ExecutionResult): AsyncIterableIterator<ExecutionResult> {
  if (!(Symbol.asyncIterator in value)) throw new Error('expected a stream');
  return value;
}

describe('shared subgraph subscriptions', () => {
  it('gives identical subscriptions started together one upstream, and each of them every event', async () => {
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

  it('opens a new upstream for a subscription that starts after the first event was sent', async () => {
    const { subscribe, upstreams } = gateway();
    const early = stream(await subscribe());
    upstreams[0]!.push(event('c1'));
    await early.next();
    const late = stream(await subscribe());
    expect(upstreams).toHaveLength(2);
    upstreams[1]!.push(event('c2'));
    expect(await late.next()).toEqual({ value: event('c2'), done: false });
  });

  it('opens a new upstream once the join window has passed, even when nothing was sent', async () => {
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

  it('ends the upstream when its last subscriber leaves, not when the one that opened it is cancelled', async () => {
    const { subscribe, upstreams } = gateway();
    const cancel = new AbortController();
    const opener = stream(await subscribe({ signal: cancel.signal }));
    const other = stream(await subscribe());
    cancel.abort();
    expect(await opener.next()).toEqual({ value: undefined, done: true });
    expect(upstreams[0]!.returned).toBe(false);
    upstreams[0]!.push(event('c1'));
    expect(await other.next()).toEqual({ value: event('c1'), done: false });
    await other.return!();
    expect(upstreams[0]!.returned).toBe(true);
  });

  it('ends a subscriber that stops reading with LIMIT_EXCEEDED while the others go on', async () => {
    const { subscribe, upstreams } = gateway({ maxQueuedPerSubscriber: 2 });
    const reader = stream(await subscribe());
    const idle = stream(await subscribe());
    for (const cursor of ['c1', 'c2', 'c3', 'c4']) {
      const next = reader.next();
      upstreams[0]!.push(event(cursor));
      expect(await next).toEqual({ value: event(cursor), done: false });
    }
    await expect(idle.next()).rejects.toMatchObject({ extensions: { code: 'LIMIT_EXCEEDED' } });
    expect(upstreams[0]!.returned).toBe(false);
  });

  it('hands a refusal from the subgraph to every subscription that asked', async () => {
    const refusal: ExecutionResult = { errors: [{ message: 'No segment seg-1', extensions: { code: 'NOT_FOUND' } }] as never };
    let calls = 0;
    const { subscribe } = gateway({ answer: async () => (calls++, refusal) });
    const [first, second] = await Promise.all([subscribe(), subscribe()]);
    expect(calls).toBe(1);
    expect(first).toBe(refusal);
    expect(second).toBe(refusal);
  });
});
