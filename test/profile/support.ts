/** The profile subgraph for one suite, with a clock the tests move, and the GraphQL documents the suites share. */
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { gql, postGraphQL, type GraphQLResponse } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';
import { uniqueName } from '../support/mongo.js';

export const PROFILE_FIELDS = `id firstName lastName jobTitle workEmail leadScore consents { marketingEmail } attributes sourceKeys
  identities { namespace value } linkKeys createdAt updatedAt`;

export const UPSERT = /* GraphQL */ `
  mutation Upsert($people: [PersonInput!]!) {
    upsertPeople(people: $people) { index status profile { ${PROFILE_FIELDS} } error { code message field } }
  }
`;

export const INGEST = /* GraphQL */ `
  mutation Ingest($events: [EventInput!]!) {
    ingestEvents(events: $events) { index status profileId error { code message field } }
  }
`;

export const PROFILE = /* GraphQL */ `
  query Profile($id: ID!) { profile(id: $id) { ${PROFILE_FIELDS} } }
`;

export interface ProfileSuite {
  suite: SubgraphSuite;
  /** The subgraph's clock; tests move it forward. */
  clock: { now: Date; advance(ms: number): void };
  /** A fresh sandbox, so tests never see each other's profiles. */
  sandbox(): string;
  /** Runs a document in `sandbox`, failing on any error. */
  gql<T = any>(sandbox: string, query: string, variables?: Record<string, unknown>): Promise<T>;
  post(sandbox: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  upsert(sandbox: string, people: Array<Record<string, unknown>>): Promise<any[]>;
  ingest(sandbox: string, events: Array<Record<string, unknown>>): Promise<any[]>;
  profile(sandbox: string, id: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startProfileSuite(): Promise<ProfileSuite> {
  const clock = {
    now: new Date('2026-03-01T09:00:00.000Z'),
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const suite = await startSubgraphSuite(startProfileSubgraph, { now: () => clock.now });
  const run = <T>(sandbox: string, query: string, variables: Record<string, unknown> = {}) => gql<T>(suite.url, query, variables, { sandbox });
  return {
    suite,
    clock,
    sandbox: () => uniqueName('p'),
    gql: run,
    post: (sandbox, query, variables = {}) => postGraphQL(suite.url, query, variables, { sandbox }),
    upsert: async (sandbox, people) => (await run<any>(sandbox, UPSERT, { people })).upsertPeople,
    ingest: async (sandbox, events) => (await run<any>(sandbox, INGEST, { events })).ingestEvents,
    profile: async (sandbox, id) => (await run<any>(sandbox, PROFILE, { id })).profile,
    stop: () => suite.stop(),
  };
}
