/**
 * One suite's subgraph under test: its own MongoDB client and database prefix
 * (so suites never share data), the server on a free port with this file's
 * security settings (support/security.ts), and cleanup.
 */
import type { MongoClient, MongoClientOptions } from 'mongodb';
import { createDatabases, type Databases } from '../../../lib/mongo/databases.js';
import type { RunningService } from '../../../lib/service.js';
import type { SubgraphStartOptions } from '../../../lib/subgraph/server.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { TEST_SECURITY } from './security.js';

export interface SubgraphSuite {
  service: RunningService;
  url: string;
  client: MongoClient;
  databases: Databases;
  prefix: string;
  stop(): Promise<void>;
}

export async function startSubgraphSuite(
  start: (options: SubgraphStartOptions) => Promise<RunningService>,
  options: { clientOptions?: MongoClientOptions; now?: () => Date } = {},
): Promise<SubgraphSuite> {
  const client = await connectTestClient(options.clientOptions);
  const prefix = uniqueName('t_sg_');
  const databases = createDatabases(client, `${prefix}_`);
  const service = await start({ databases, security: TEST_SECURITY, port: 0, now: options.now });
  return {
    service,
    url: service.url,
    client,
    databases,
    prefix,
    async stop() {
      await service.stop();
      await dropDatabasesWithPrefix(client, prefix);
      await client.close();
    },
  };
}
