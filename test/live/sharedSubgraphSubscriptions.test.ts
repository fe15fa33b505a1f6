/** Identical subgraph subscriptions started together share one upstream; nothing else changes for their clients. */
import { describe, expect, it } from 'vitest';
import { parse, type ExecutionResult } from 'graphql';
import { useSharedSubgraphSubscriptions } from '../../gateway/live/sharedSubgraphSubscriptions.js';
import { fakeUpstream, membershipEvent as event, stream, type FakeUpstream } from './fakeUpstream.js';

const DOCUMENT = parse('subscription ($segmentId: ID!) { segmentMembershipChanged(segmentId: $segmentId) { cursor } }');

interface Who {
  sandbox?: string;
  role?: string;
  subgraph?: string;
  segmentId?: string;
  signal?: AbortSignal;
}

/** The plugin in front of subgraphs whose subscriptions are `upstreams`. */
function gateway() {
  const plugin = useSharedSubgraphSubscriptions();
  const upstreams: FakeUpstream[] = [];
  // Like the websocket transport: a request's cancel signal ends the subscription it opened.
  const subgraph = (request: { signal?: AbortSignal }) => {
    const opened = fakeUpstream();
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
    plugin.onSubgraphExecute!({ subgraphName: who.subgraph ?? 'segment', executionRequest: request, executor: subgraph, setExecutor: (next: typeof executor) => (executor = next) } as never);
    return (await executor(request)) as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
  };
  return { subscribe, upstreams };
}

describe('shared subgraph subscriptions', () => {
  it('gives identical subgraph subscriptions started together one upstream, and each of them every event', async () => {
    const { subscribe, upstreams } = gateway();
    const first = stream(await subscribe());
    const second = stream(await subscribe());
    expect(upstreams).toHaveLength(1);
    upstreams[0]!.push(event('c1'));
    expect(await first.next()).toEqual({ value: event('c1'), done: false });
    expect(await second.next()).toEqual({ value: event('c1'), done: false });
  });

  it('never shares between sandboxes, roles, subgraphs or different variables', async () => {
    const { subscribe, upstreams } = gateway();
    await subscribe({ sandbox: 'acme' });
    await subscribe({ sandbox: 'globex' });
    await subscribe({ role: 'admin' });
    await subscribe({ subgraph: 'profile' });
    await subscribe({ segmentId: 'seg-2' });
    expect(upstreams).toHaveLength(5);
  });

  it('lets a cancelled client leave, and keeps the upstream, opened with its request, for the others', async () => {
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
});
