import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSegmentSubgraph } from '../../subgraphs/segment/server.js';
import { gql, postGraphQL } from './support/graphql.js';
import { tokenFor } from './support/security.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';

const SEGMENT_FIELDS = 'id name description expression targetEntity createdAt updatedAt';
const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { ${SEGMENT_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSegmentInput!) { updateSegment(id: $id, input: $input) { ${SEGMENT_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteSegment(id: $id) }`;
const GET = `query($id: ID!) { segment(id: $id) { ${SEGMENT_FIELDS} } }`;

const vp = { name: 'VPs at big software companies', expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' };

/** Collects a subscription's events; resolves `next(n)` once n events have arrived. */
function collect(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: any[] = [];
  const errors: unknown[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        events.push(value);
        if (waiter && events.length >= waiter.count) waiter.resolve();
      },
      error: (error) => {
        errors.push(error);
        waiter?.resolve();
      },
      complete: () => waiter?.resolve(),
    },
  );
  return {
    events,
    errors,
    dispose,
    until: (count: number, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (events.length >= count || errors.length > 0) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out with ${events.length}/${count} events`)), timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      }),
  };
}

type Collected = ReturnType<typeof collect>;

describe('segment subgraph', () => {
  let suite: SubgraphSuite;

  /**
   * Proves a subscriber hears its sandbox before a test relies on it (its change stream is shared
   * and opens asynchronously): creates segments there until one reaches it, then a fence segment;
   * events arrive in commit order, so once the fence has arrived every control event has, and all
   * are forgotten.
   */
  async function listening(sub: Collected, sandbox: string): Promise<void> {
    for (let attempt = 0; sub.events.length === 0; attempt++) {
      if (attempt === 20) throw new Error(`the subscriber in ${sandbox} heard none of 20 control segments`);
      await gql(suite.url, CREATE, { input: { ...vp, name: `control ${attempt}` } }, { sandbox });
      await sub.until(1, 500).catch(() => {});
    }
    const fence = `fence ${Date.now()}`;
    await gql(suite.url, CREATE, { input: { ...vp, name: fence } }, { sandbox });
    await expect.poll(() => sub.events.map((event) => event.data.segmentDefinitionChanged.segment?.name), { timeout: 5_000 }).toContain(fence);
    sub.events.length = 0;
  }
  const clients: Client[] = [];
  const wsClient = (connectionParams: Record<string, unknown>) => {
    const client = createClient({ url: suite.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    suite = await startSubgraphSuite(startSegmentSubgraph, { clientOptions: { monitorCommands: true } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('creates, reads, updates, lists and deletes segments', async () => {
    const sandbox = 'crud';
    const { createSegment } = await gql(suite.url, CREATE, { input: { ...vp, description: ' Senior buyers ' } }, { sandbox });
    expect(createSegment).toMatchObject({ ...vp, description: 'Senior buyers' });
    expect(createSegment.id).toMatch(/^seg_/);

    const { segment } = await gql(suite.url, GET, { id: createSegment.id }, { sandbox });
    expect(segment).toEqual(createSegment);

    const { updateSegment } = await gql(
      suite.url,
      UPDATE,
      { id: createSegment.id, input: { name: 'Renamed', description: null, targetEntity: 'ACCOUNT', expression: 'industry = "Software"' } },
      { sandbox },
    );
    expect(updateSegment).toMatchObject({ id: createSegment.id, name: 'Renamed', description: null, expression: 'industry = "Software"', targetEntity: 'ACCOUNT' });

    await gql(suite.url, CREATE, { input: { ...vp, name: 'Second' } }, { sandbox });
    const all = await gql(suite.url, `{ segments { name } }`, {}, { sandbox });
    expect(all.segments.map((s: any) => s.name)).toEqual(['Renamed', 'Second']);
    const people = await gql(suite.url, `{ segments(targetEntity: PERSON) { name } }`, {}, { sandbox });
    expect(people.segments.map((s: any) => s.name)).toEqual(['Second']);

    expect((await gql(suite.url, DELETE, { id: createSegment.id }, { sandbox })).deleteSegment).toBe(createSegment.id);
    expect((await gql(suite.url, GET, { id: createSegment.id }, { sandbox })).segment).toBeNull();
    const again = await postGraphQL(suite.url, DELETE, { id: createSegment.id }, { sandbox });
    expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('validates segment definitions with messages that say what to fix', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...vp, name: '   ' }, /name is required/],
      [{ ...vp, name: 'x'.repeat(201) }, /name must be at most 200/],
      [{ ...vp, expression: ' ' }, /expression is required/],
      [{ ...vp, expression: 'a'.repeat(20_001) }, /at most 20000/],
    ];
    for (const [input, message] of cases) {
      const response = await postGraphQL(suite.url, CREATE, { input }, { sandbox: 'invalid' });
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(message);
    }
    const badEnum = await postGraphQL(suite.url, CREATE, { input: { ...vp, targetEntity: 'COMPANY' } }, { sandbox: 'invalid' });
    expect(badEnum.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await postGraphQL(suite.url, UPDATE, { id: 'seg_missing', input: { name: 'x' } }, { sandbox: 'invalid' });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await suite.databases.sandbox('invalid').collection('segments').countDocuments()).toBe(0);
  });

  it('streams definition changes over graphql-ws, in the sandbox of the token in the connection params', async () => {
    const sandbox = 'live';
    const client = wsClient({ headers: { 'X-CDP-Gateway-Token': await tokenFor(sandbox, 'viewer') } });
    const other = wsClient({ 'x-cdp-gateway-token': await tokenFor('elsewhere', 'viewer') });
    const query = `subscription { segmentDefinitionChanged { kind segmentId segment { id name } } }`;
    const live = collect(client, query);
    const quiet = collect(other, query);
    await listening(live, sandbox);
    await listening(quiet, 'elsewhere');

    const { createSegment } = await gql(suite.url, CREATE, { input: vp }, { sandbox });
    await gql(suite.url, UPDATE, { id: createSegment.id, input: { name: 'Renamed' } }, { sandbox });
    await gql(suite.url, DELETE, { id: createSegment.id }, { sandbox });
    await live.until(3);

    expect(live.errors).toEqual([]);
    expect(live.events.map((e) => e.data.segmentDefinitionChanged)).toEqual([
      { kind: 'CREATED', segmentId: createSegment.id, segment: { id: createSegment.id, name: vp.name } },
      { kind: 'UPDATED', segmentId: createSegment.id, segment: { id: createSegment.id, name: 'Renamed' } },
      { kind: 'DELETED', segmentId: createSegment.id, segment: null },
    ]);
    // The other sandbox's subscriber was listening, and heard nothing: a fence created there after the
    // changes above reaches it, and events arrive in commit order, so a misrouted one would be before it.
    const fence = `fence ${Date.now()}`;
    await gql(suite.url, CREATE, { input: { ...vp, name: fence } }, { sandbox: 'elsewhere' });
    await quiet.until(1);
    expect(quiet.errors).toEqual([]);
    expect(quiet.events.map((e) => e.data.segmentDefinitionChanged.segment?.name)).toEqual([fence]);
  });

  it('closes the shared change stream when its last subscriber unsubscribes', async () => {
    // The process's one stream of segment changes watches the whole deployment, from `admin`:
    // note the cursors it opens, and which of them are killed.
    const requests = new Set<number>();
    const opened = new Set<string>();
    const killed: string[] = [];
    const onStarted = (event: CommandStartedEvent) => {
      const pipeline = (event.command as { pipeline?: Array<Record<string, unknown>> }).pipeline;
      if (event.commandName === 'aggregate' && pipeline?.[0]?.$changeStream) requests.add(event.requestId);
      if (event.commandName === 'killCursors') killed.push(...(event.command.cursors as unknown[]).map(String));
    };
    const onSucceeded = (event: CommandSucceededEvent) => {
      if (requests.delete(event.requestId)) opened.add(String((event.reply as { cursor: { id: unknown } }).cursor.id));
    };
    suite.client.on('commandStarted', onStarted);
    suite.client.on('commandSucceeded', onSucceeded);
    try {
      const client = wsClient({ 'x-cdp-gateway-token': await tokenFor('unsubscribe', 'viewer') });
      const sub = collect(client, `subscription { segmentDefinitionChanged { kind segment { name } } }`);
      await listening(sub, 'unsubscribe');
      const ours = [...opened];
      expect(ours).toHaveLength(1);
      expect(killed.filter((id) => ours.includes(id))).toEqual([]);
      sub.dispose();
      await expect.poll(() => killed.filter((id) => ours.includes(id)).length, { timeout: 5_000 }).toBe(1);
    } finally {
      suite.client.off('commandStarted', onStarted);
      suite.client.off('commandSucceeded', onSucceeded);
    }
  });

  it('ignores x-sandbox in connection params: the token names the sandbox', async () => {
    const client = wsClient({ headers: { 'x-cdp-gateway-token': await tokenFor('ws-token', 'viewer'), 'x-sandbox': 'ws-header' }, 'x-sandbox': 'ws-header' });
    const sub = collect(client, `subscription { segmentDefinitionChanged { kind segment { name } } }`);
    await listening(sub, 'ws-token');
    await gql(suite.url, CREATE, { input: { ...vp, name: 'In the header sandbox' } }, { sandbox: 'ws-header' });
    await gql(suite.url, CREATE, { input: { ...vp, name: 'In the token sandbox' } }, { sandbox: 'ws-token' });
    // A last change in the token's sandbox: once it arrives, anything from the header's sandbox would have too.
    await gql(suite.url, CREATE, { input: { ...vp, name: 'Last' } }, { sandbox: 'ws-token' });
    await sub.until(2);
    expect(sub.errors).toEqual([]);
    expect(sub.events.map((e) => e.data.segmentDefinitionChanged)).toEqual([
      { kind: 'CREATED', segment: { name: 'In the token sandbox' } },
      { kind: 'CREATED', segment: { name: 'Last' } },
    ]);
  });
});

