/**
 * One sandbox for activation tests: the destination subgraph (activations are
 * created through its API, as the gateway would), people and segments written in
 * the stored layout, memberships and their events written through the segment
 * subgraph's repositories (as evaluation writes them), and the delivery engine
 * on a clock the test moves, driven one drain at a time.
 */
import type { Db } from 'mongodb';
import { silentLogger } from '../../lib/logger.js';
import { ActivationDelivery, type DrainResult } from '../../subgraphs/destination/activations/activationDelivery.js';
import { ActivationLeasesRepository } from '../../subgraphs/destination/activations/activationLeases.repository.js';
import { createDeliveryEnvironment, type DeliveryEnvironment, type DeliverySettings } from '../../subgraphs/destination/activations/deliveryEnvironment.js';
import { startDestinationSubgraph } from '../../subgraphs/destination/server.js';
import { MembershipEventsRepository } from '../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../../subgraphs/segment/memberships/memberships.repository.js';
import { SegmentsRepository } from '../../subgraphs/segment/segments.repository.js';
import { fakeClock, type FakeClock } from '../destination/support.js';
import { uniqueName } from '../support/mongo.js';
import { gql, postGraphQL, type GraphQLResponse } from '../subgraphs/support/graphql.js';
import { TEST_SECURITY } from '../subgraphs/support/security.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';

export const ACTIVATION_FIELDS = `id status schedule mapping options backfilled pendingRetries deadLetterCount
  segment { id } destination { id type }
  lastRun { runId delivered removed failed excluded }
  totals { delivered removed failed excluded }
  blocked { code }`;

export interface PersonFixture {
  email?: string;
  consent?: 'y' | 'n';
  firstName?: string;
  /** A Marketo lead id of the instance at `munchkin`, as a Marketo source would have stored it. */
  marketoLead?: { id: number; munchkin: string };
}

export interface ActivationBox {
  suite: SubgraphSuite;
  sandbox: string;
  db: Db;
  clock: FakeClock;
  env: DeliveryEnvironment;
  /** GraphQL against the destination subgraph as an admin of the sandbox; fails on errors. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** The same, answering errors too. */
  post(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  putPerson(id: string, person: PersonFixture): Promise<void>;
  putAccount(id: string, fields: { name: string; domain: string }): Promise<void>;
  putSegment(name: string, target?: 'PERSON' | 'ACCOUNT'): Promise<string>;
  /** Members enter (realized) or exit a segment: memberships and their events, as an evaluation run writes them. */
  enter(segmentId: string, memberIds: string[], target?: 'PERSON' | 'ACCOUNT'): Promise<void>;
  exit(segmentId: string, memberIds: string[]): Promise<void>;
  /** Takes the activation's lease as a worker would and drains what is due. */
  deliver(activationId: string): Promise<DrainResult>;
  activate(input: Record<string, unknown>): Promise<{ id: string; options: Record<string, unknown> }>;
  stop(): Promise<void>;
}

let runs = 0;

function realClock(): FakeClock {
  return { ...fakeClock(), now: () => new Date(), millis: () => Date.now(), advance: () => {}, sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

/** `realTime`: the subgraph and engine on the wall clock, for suites with worker processes of their own. */
export async function activationBox(settings: Partial<DeliverySettings> = {}, options: { realTime?: boolean } = {}): Promise<ActivationBox> {
  const clock = options.realTime ? realClock() : fakeClock(Date.parse('2099-01-05T09:00:00Z'));
  const suite = await startSubgraphSuite((options) => startDestinationSubgraph({ ...options, backfillDelayMs: 0 }), { now: clock.now });
  const sandbox = uniqueName('act');
  const db = suite.databases.sandbox(sandbox);
  const env = createDeliveryEnvironment({
    databases: suite.databases,
    encryptionKey: TEST_SECURITY.encryptionKey,
    logger: silentLogger,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    settings: { maxAttempts: 3, ...settings },
  });
  const memberships = new MembershipsRepository(db);
  const events = new MembershipEventsRepository(db);
  const segments = new SegmentsRepository(db);
  const leases = new ActivationLeasesRepository(suite.databases.platform());
  const memberType = new Map<string, 'PERSON' | 'ACCOUNT'>();

  const change = async (segmentId: string, memberIds: string[], status: 'realized' | 'exited', target: 'PERSON' | 'ACCOUNT') => {
    const runId = `run_test${++runs}`;
    const at = clock.now();
    await events.ensureIndexes();
    await events.append(memberIds.map((memberId) => ({ segmentId, memberId, memberType: target, status, occurredAt: at, cause: { kind: 'batch' as const, runId } })));
    await memberships.applyTransitions(
      memberIds.map((memberId) =>
        status === 'realized'
          ? { kind: 'enter' as const, from: null, segmentId, memberId, memberType: target, runId, at }
          : { kind: 'exit' as const, segmentId, memberId, runId, at, expiresAt: new Date(at.getTime() + 86_400_000) },
      ),
    );
  };

  const box: ActivationBox = {
    suite,
    sandbox,
    db,
    clock,
    env,
    gql: (query, variables = {}) => gql(suite.url, query, variables, { sandbox }),
    post: (query, variables = {}) => postGraphQL(suite.url, query, variables, { sandbox }),
    async putPerson(id, person) {
      const identityKeys = person.email ? [`Email:${person.email.toLowerCase()}`] : [];
      if (person.marketoLead) identityKeys.push(`b2b_person:${person.marketoLead.id}@${person.marketoLead.munchkin}.Marketo`);
      await db.collection('people').replaceOne(
        { _id: id as never },
        {
          identityKeys,
          linkKeys: [`id:${id}`],
          ...(person.email ? { workEmail: person.email.toLowerCase() } : {}),
          ...(person.firstName ? { firstName: person.firstName } : {}),
          consents: { marketingEmail: person.consent ?? 'y' },
          createdAt: clock.now(),
        },
        { upsert: true },
      );
    },
    async putAccount(id, fields) {
      await db.collection('accounts').replaceOne({ _id: id as never }, { ...fields, createdAt: clock.now() }, { upsert: true });
    },
    async putSegment(name, target = 'PERSON') {
      const id = `seg_${name.replace(/\W/g, '')}${++runs}`;
      memberType.set(id, target);
      await segments.insert({ id, name, description: null, expression: target === 'PERSON' ? 'exists(workEmail)' : 'exists(name)', targetEntity: target, dependsOn: [], createdAt: clock.now(), updatedAt: clock.now() });
      return id;
    },
    enter: (segmentId, memberIds, target) => change(segmentId, memberIds, 'realized', target ?? memberType.get(segmentId) ?? 'PERSON'),
    exit: (segmentId, memberIds) => change(segmentId, memberIds, 'exited', memberType.get(segmentId) ?? 'PERSON'),
    async deliver(activationId) {
      const at = clock.now();
      const lease = await leases.claim(sandbox, activationId, 'test-worker', at, new Date(at.getTime() + 3_600_000));
      if (!lease) {
        // No lease: the activation is no longer delivered (deactivated), as a worker would find it.
        const registered = await suite.databases.platform().collection('activationLeases').countDocuments({ activationId });
        if (registered > 0) throw new Error(`The lease of ${activationId} is held`);
        return { counts: { delivered: 0, removed: 0, failed: 0, excluded: 0 }, batches: 0, finished: true };
      }
      try {
        const delivery = new ActivationDelivery(env, sandbox, activationId, lease.epoch);
        if (!(await delivery.fence())) throw new Error('fenced out');
        return await delivery.drain();
      } finally {
        await leases.release(lease);
      }
    },
    async activate(input) {
      const data = await box.gql('mutation ($input: ActivateSegmentInput!) { activateSegment(input: $input) { id options } }', { input });
      return data.activateSegment;
    },
    stop: () => suite.stop(),
  };
  return box;
}

export async function createDestination(box: ActivationBox, input: Record<string, unknown>): Promise<string> {
  const data = await box.gql('mutation ($input: CreateDestinationInput!) { createDestination(input: $input) { id } }', { input });
  return data.createDestination.id;
}

export async function activationOf(box: ActivationBox, id: string): Promise<Record<string, any>> {
  return (await box.gql(`query ($id: ID!) { activation(id: $id) { ${ACTIVATION_FIELDS} } }`, { id })).activation;
}
