import type { CommandStartedEvent } from 'mongodb';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSegmentSubgraph } from '../../subgraphs/segment/server.js';
import { gql, postGraphQL } from './support/graphql.js';
import { tokenFor } from './support/security.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';
import { changeStreamsOpened } from './support/changeStreams.js';

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

describe('segment subgraph', () => {
  let suite: SubgraphSuite;
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
    const opened = Promise.all([changeStreamsOpened(suite.client, '_sb_live'), changeStreamsOpened(suite.client, '_sb_elsewhere')]);
    const live = collect(client, query);
    const quiet = collect(other, query);
    await opened;

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
    // The other sandbox's subscriber was listening, and heard nothing.
    expect(quiet.errors).toEqual([]);
    expect(quiet.events).toEqual([]);
  });

  it('closes the change stream when the client unsubscribes', async () => {
    const killed: CommandStartedEvent[] = [];
    const onCommand = (event: CommandStartedEvent) => {
      if (event.commandName === 'killCursors' && event.databaseName.endsWith('_sb_unsubscribe')) killed.push(event);
    };
    suite.client.on('commandStarted', onCommand);
    try {
      const client = wsClient({ 'x-cdp-gateway-token': await tokenFor('unsubscribe', 'viewer') });
      const opened = changeStreamsOpened(suite.client, '_sb_unsubscribe');
      const sub = collect(client, `subscription { segmentDefinitionChanged { kind } }`);
      await opened;
      expect(killed).toEqual([]);
      sub.dispose();
      await expect.poll(() => killed.length, { timeout: 5_000 }).toBe(1);
    } finally {
      suite.client.off('commandStarted', onCommand);
    }
  });

  it('ignores x-sandbox in connection params: the token names the sandbox', async () => {
    const client = wsClient({ headers: { 'x-cdp-gateway-token': await tokenFor('ws-token', 'viewer'), 'x-sandbox': 'ws-header' }, 'x-sandbox': 'ws-header' });
    const opened = changeStreamsOpened(suite.client, '_sb_ws-token');
    const sub = collect(client, `subscription { segmentDefinitionChanged { kind segment { name } } }`);
    await opened;
    await gql(suite.url, CREATE, { input: { ...vp, name: 'In the header sandbox' } }, { sandbox: 'ws-header' });
    await gql(suite.url, CREATE, { input: { ...vp, name: 'In the token sandbox' } }, { sandbox: 'ws-token' });
    await sub.until(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sub.errors).toEqual([]);
    expect(sub.events.map((e) => e.data.segmentDefinitionChanged)).toEqual([{ kind: 'CREATED', segment: { name: 'In the token sandbox' } }]);
  });
});

