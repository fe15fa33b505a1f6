/**
 * The four subgraphs for one suite, on free ports, with this file's security
 * settings, in databases under a prefix no other suite uses, dropped on stop.
 */
import type { MongoClient } from 'mongodb';
import { createDatabases, type Databases } from '../../../lib/mongo/databases.js';
import type { RunningService } from '../../../lib/service.js';
import type { SubgraphStartOptions } from '../../../lib/subgraph/server.js';
import { startAccountSubgraph } from '../../../subgraphs/account/server.js';
import { startDestinationSubgraph } from '../../../subgraphs/destination/server.js';
import { startProfileSubgraph } from '../../../subgraphs/profile/server.js';
import { startSegmentSubgraph } from '../../../subgraphs/segment/server.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { TEST_SECURITY } from './security.js';

export const SUBGRAPHS = ['profile', 'account', 'segment', 'destination'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

const STARTERS: Record<SubgraphName, (options: SubgraphStartOptions) => Promise<RunningService>> = {
  profile: startProfileSubgraph,
  account: startAccountSubgraph,
  segment: startSegmentSubgraph,
  destination: startDestinationSubgraph,
};

export interface AllSubgraphs {
  services: Record<SubgraphName, RunningService>;
  client: MongoClient;
  databases: Databases;
  stop(): Promise<void>;
}

/** `tokenClock`: the clock the subgraphs check token expiry against (the wall clock by default). */
export async function startAllSubgraphs(options: { tokenClock?: () => Date } = {}): Promise<AllSubgraphs> {
  const client = await connectTestClient();
  const prefix = uniqueName('t_all_');
  const databases = createDatabases(client, `${prefix}_`);
  const services = {} as Record<SubgraphName, RunningService>;
  const security = { ...TEST_SECURITY, tokenClock: options.tokenClock };
  for (const name of SUBGRAPHS) {
    services[name] = await STARTERS[name]({ databases, security, port: 0 });
  }
  return {
    services,
    client,
    databases,
    async stop() {
      await Promise.all(Object.values(services).map((service) => service.stop()));
      await dropDatabasesWithPrefix(client, prefix);
      await client.close();
    },
  };
}
