/**
 * Two small Apollo Server subgraphs, no MongoDB, for testing the gateway on its
 * own: `people` (owns Person, a mutation and a subscription) and `companies`
 * (adds Person.company through an entity fetch). Each verifies the gateway
 * token it receives, over HTTP and on its graphql-ws connections, records the
 * sandbox and role in it, and serves `GET /health` like the real subgraphs.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter, on } from 'node:events';
import { parse } from 'graphql';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GATEWAY_TOKEN_HEADER, createGatewayTokenVerifier } from '../../../lib/auth/gatewayToken.js';

/** The secret the test gateway signs its tokens with; tiny subgraphs verify with it. */
export const TINY_GATEWAY_SECRET = 'tiny-subgraphs-test-secret-0123456789abcdef';
const verifier = createGatewayTokenVerifier(TINY_GATEWAY_SECRET);

export interface SeenRequest {
  kind: 'http' | 'ws';
  /** The sandbox of the verified gateway token; undefined when it was missing or invalid. */
  sandbox: string | undefined;
  role: string | undefined;
  /** First field of the operation, e.g. `person` or `_entities`. */
  operation: string;
}

export interface TinySubgraph {
  name: string;
  url: string;
  typeDefs: string;
  seen: SeenRequest[];
  /** The `x-request-id` of each HTTP request, in order. */
  requestIds: Array<string | undefined>;
  /** Makes `/health` answer 503, as a subgraph that lost its database would. */
  setHealthy(healthy: boolean): void;
  stop(): Promise<void>;
}

interface TinyContext {
  sandbox: string;
}

async function principalOf(token: unknown): Promise<{ sandbox: string; role: string } | undefined> {
  return typeof token === 'string' ? verifier.verify(token).catch(() => undefined) : undefined;
}

const PEOPLE_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

  type Person @key(fields: "id") {
    id: ID!
    name: String!
  }

  type Query {
    person(id: ID!): Person
  }

  type Mutation {
    renamePerson(id: ID!, name: String!): Person!
  }

  type Subscription {
    personRenamed: Person!
  }
`;

const COMPANIES_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

  type Person @key(fields: "id") {
    id: ID!
    company: Company!
  }

  type Company {
    name: String!
    "The sandbox this subgraph was asked for when it resolved the entity."
    sandbox: String!
  }
`;

export async function startTinySubgraphs(): Promise<{ people: TinySubgraph; companies: TinySubgraph }> {
  // Renames are events per sandbox; a subscriber only hears its own sandbox's.
  const renames = new EventEmitter();
  const names = new Map<string, string>();
  const key = (sandbox: string, id: string) => `${sandbox}/${id}`;

  const people = await startTinySubgraph('people', PEOPLE_SDL, {
    Query: {
      person: (_: unknown, { id }: { id: string }, ctx: TinyContext) => ({ id, name: names.get(key(ctx.sandbox, id)) ?? `Person ${id}` }),
    },
    Mutation: {
      renamePerson: (_: unknown, { id, name }: { id: string; name: string }, ctx: TinyContext) => {
        names.set(key(ctx.sandbox, id), name);
        const person = { id, name };
        renames.emit(ctx.sandbox, person);
        return person;
      },
    },
    Subscription: {
      personRenamed: {
        subscribe: async function* (_: unknown, __: unknown, ctx: TinyContext) {
          for await (const [person] of on(renames, ctx.sandbox)) yield { personRenamed: person };
        },
      },
    },
    Person: {
      __resolveReference: (ref: { id: string }, ctx: TinyContext) => ({ id: ref.id, name: names.get(key(ctx.sandbox, ref.id)) ?? `Person ${ref.id}` }),
    },
  });

  const companies = await startTinySubgraph('companies', COMPANIES_SDL, {
    Person: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      company: (person: { id: string }, _: unknown, ctx: TinyContext) => ({ name: `Company of ${person.id}`, sandbox: ctx.sandbox }),
    },
  });

  return { people, companies };
}

async function startTinySubgraph(name: string, typeDefs: string, resolvers: object): Promise<TinySubgraph> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers: resolvers as never }]);
  const apollo = new ApolloServer<TinyContext>({ schema });
  await apollo.start();
  const seen: SeenRequest[] = [];
  const requestIds: Array<string | undefined> = [];
  let healthy = true;

  const server: Server = createServer(async (req, res) => {
    if (req.url === '/health') {
      res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'unavailable');
      return;
    }
    const body = await readBody(req);
    const headers = new HeaderMap();
    for (const [header, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(header, value);
    const principal = await principalOf(headers.get(GATEWAY_TOKEN_HEADER));
    seen.push({ kind: 'http', sandbox: principal?.sandbox, role: principal?.role, operation: firstField(body) });
    requestIds.push(headers.get('x-request-id'));
    const context: TinyContext = { sandbox: principal?.sandbox ?? 'none' };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: new URL(req.url ?? '/', 'http://x').search, body },
      context: async () => context,
    });
    res.statusCode = response.status ?? 200;
    for (const [header, value] of response.headers) res.setHeader(header, value);
    if (response.body.kind === 'complete') res.end(response.body.string);
    else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  });

  const wss = new WebSocketServer({ server, path: '/graphql' });
  const wsServer = useServer<Record<string, unknown>>(
    {
      schema,
      context: async (ctx, _id, payload) => {
        const principal = await principalOf(ctx.connectionParams?.[GATEWAY_TOKEN_HEADER]);
        seen.push({ kind: 'ws', sandbox: principal?.sandbox, role: principal?.role, operation: firstField(payload) });
        return { sandbox: principal?.sandbox ?? 'none' };
      },
    },
    wss,
  );

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    typeDefs,
    seen,
    requestIds,
    setHealthy: (value) => void (healthy = value),
    async stop() {
      await wsServer.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function firstField(body: unknown): string {
  const query = (body as { query?: unknown } | undefined)?.query;
  if (typeof query !== 'string') return '';
  return /\{\s*([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1] ?? '';
}
