/**
 * What every test worker script shares (the scripts workerProcess.ts starts): the arguments
 * `<mongoUri> <dbPrefix> <name> ...its own`, the connection, a jobs worker running only the
 * jobs and services the script names, with no subgraph to call, and the ready line.
 */
import { MongoClient } from 'mongodb';
import { startWorker, type WorkerOptions } from '../../jobs/worker.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases, type Databases } from '../../lib/mongo/databases.js';
import { WORKER_READY } from './workerProcess.js';

/** Nothing listens here: these workers run only jobs that need no subgraph. */
const UNREACHABLE = 'http://127.0.0.1:1/graphql';

/** A job lock lifetime short enough that the next worker takes a killed worker's job over soon. */
export const WORKER_LOCK_LIFETIME_MS = 1_500;

export interface WorkerProcessContext {
  databases: Databases;
  /** The worker's name in Agenda (and the owner of the leases it takes). */
  name: string;
  /** The script's own arguments, after the three every worker takes. */
  args: string[];
}

export interface WorkerProcessWork extends Pick<WorkerOptions, 'jobs' | 'services'> {
  processEveryMs: number;
  encryptionKey?: string;
}

/** Starts the worker with the work `describe` names, then prints the ready line. */
export async function runWorkerProcess(usage: string, describe: (context: WorkerProcessContext) => WorkerProcessWork): Promise<void> {
  const [uri, prefix, name, ...args] = process.argv.slice(2);
  if (!uri || !prefix || !name) throw new Error(`usage: ${usage}`);
  const client = new MongoClient(uri);
  await client.connect();
  const databases = createDatabases(client, prefix);
  const { jobs = [], services = [], processEveryMs, encryptionKey } = describe({ databases, name, args });
  await startWorker({
    databases,
    logger: silentLogger,
    subgraphUrls: { profile: UNREACHABLE, account: UNREACHABLE, segment: UNREACHABLE, destination: UNREACHABLE },
    security: { gatewaySecret: 'w'.repeat(32), ...(encryptionKey === undefined ? {} : { encryptionKey }) },
    jobs,
    services,
    processEveryMs,
    name,
  });
  process.stdout.write(`${WORKER_READY}\n`);
}

/**
 * A step counter for a job's hook: at the `steps`-th call (none when `steps` is 0) it calls
 * `onHold` and then never returns, so the worker stops for good at a point the test knows and
 * is killed there.
 */
export function holdAfter(steps: number, onHold: () => Promise<unknown> = async () => undefined): () => Promise<void> {
  let done = 0;
  return async () => {
    if (steps === 0 || ++done !== steps) return;
    await onHold();
    await new Promise<never>(() => undefined);
  };
}
