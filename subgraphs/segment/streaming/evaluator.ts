/**
 * The streaming evaluator as a worker service. Every worker process runs one; they share the
 * sandboxes through leases in MongoDB (`streamingLeases`): each worker claims the sandboxes
 * nobody holds (re-listing them periodically, so new sandboxes are picked up), renews the
 * leases it holds, and runs a partition (partition.ts) per held sandbox. A worker that dies
 * stops renewing; once its leases expire another worker claims them and resumes from the
 * stored resume token. A worker that fails to renew stops the partition before the lease
 * can expire, and the lease epoch fences whatever it might still try to write.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobDependencies, RunningWorkerService, WorkerService } from '../../../lib/jobs.js';
import type { Logger } from '../../../lib/logger.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { PartitionsRepository, type HeldLease } from './partitions.repository.js';
import { LeaseLostError, Partition, type PartitionSettings } from './partition.js';

export const STREAMING_SERVICE_NAME = 'streamingEvaluator';

export interface StreamingEvaluatorOptions {
  /** How long a lease lasts without renewal: a dead worker's sandboxes are taken over after it. @default 5000 */
  leaseMs?: number;
  /** How often leases are renewed and free sandboxes claimed. @default leaseMs / 5 */
  renewEveryMs?: number;
  /** How often the sandboxes are listed again. @default 5000 */
  relistEveryMs?: number;
  /** The evaluation clock (`now` in the segment language, wake-ups); the worker's clock by default. */
  now?: () => Date;
  /** Wall-clock milliseconds for leases, lag and heartbeats. @default Date.now */
  wall?: () => number;
  /** Which sandboxes to evaluate (all by default). */
  sandboxes?: (sandbox: string) => boolean;
  /** Names this worker in the leases. */
  owner?: string;
  /** How long exited memberships are kept. @default the worker's `audiences.exitedMembershipRetentionDays` */
  exitedRetentionDays?: number;
  batchSize?: number;
  memberChunk?: number;
  maxAwaitMs?: number;
  heartbeatMs?: number;
}

const DAY_MS = 86_400_000;
/** Once a partition fails, its sandbox is claimed again after this long. */
const RETRY_AFTER_MS = 2_000;

interface Running {
  lease: HeldLease;
  partition: Partition;
  /** Until when the lease is known to be held (wall clock). */
  heldUntil: number;
  done: Promise<void>;
  finished: boolean;
}

export function createStreamingEvaluatorService(options: StreamingEvaluatorOptions = {}): WorkerService {
  return {
    name: STREAMING_SERVICE_NAME,
    start: (deps) => startStreamingEvaluator(deps, options),
  };
}

/** The service as the worker registers it. */
export const streamingEvaluatorService: WorkerService = createStreamingEvaluatorService();

async function startStreamingEvaluator(deps: JobDependencies, options: StreamingEvaluatorOptions): Promise<RunningWorkerService> {
  const leaseMs = options.leaseMs ?? 5_000;
  const renewEveryMs = options.renewEveryMs ?? Math.max(50, Math.floor(leaseMs / 5));
  const relistEveryMs = options.relistEveryMs ?? 5_000;
  const wall = options.wall ?? Date.now;
  const now = options.now ?? deps.now;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const logger: Logger = deps.logger.child({ component: STREAMING_SERVICE_NAME, owner });
  const settings: PartitionSettings = {
    batchSize: options.batchSize ?? 500,
    memberChunk: options.memberChunk ?? 500,
    maxAwaitMs: options.maxAwaitMs ?? 200,
    heartbeatMs: options.heartbeatMs ?? 1_000,
    retentionMs: (options.exitedRetentionDays ?? deps.audiences.exitedMembershipRetentionDays) * DAY_MS,
  };
  const platform = deps.databases.platform();
  const leases = new PartitionsRepository(platform);
  const tenancy = new TenancyRepository(platform);
  await leases.ensureIndexes();

  const running = new Map<string, Running>();
  const retryAt = new Map<string, number>();
  let sandboxes: string[] = [];
  let listedAt = -Infinity;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let batchCounter = 0;
  const batchPrefix = randomBytes(6).toString('hex');

  const startPartition = async (sandbox: string): Promise<void> => {
    const at = wall();
    const claimed = await leases.claim(sandbox, owner, new Date(at), new Date(at + leaseMs));
    if (!claimed) return;
    const { lease, state } = claimed;
    const db = deps.databases.sandbox(sandbox);
    const entry: Running = { lease, heldUntil: at + leaseMs, finished: false, done: Promise.resolve(), partition: undefined as unknown as Partition };
    // Writing starts only with a third of the lease left, so a batch ends before another worker can claim it.
    const margin = Math.max(leaseMs / 3, settings.maxAwaitMs);
    entry.partition = new Partition({
      sandbox,
      db,
      lease,
      partitions: leases,
      logger: logger.child({ sandbox }),
      now,
      wall,
      batchIds: () => `${batchPrefix}.${lease.epoch}.${(++batchCounter).toString(36)}`,
      canWrite: () => !entry.finished && wall() < entry.heldUntil - margin,
      settings,
    });
    running.set(sandbox, entry);
    logger.info({ sandbox, epoch: lease.epoch }, 'Streaming evaluation of a sandbox started');
    entry.done = entry.partition.run(state).then(
      async () => {
        entry.finished = true;
        await leases.release(lease, new Date(wall())).catch(() => undefined);
      },
      async (error: unknown) => {
        entry.finished = true;
        if (error instanceof LeaseLostError) logger.warn({ sandbox }, 'Streaming lease lost or too close to expiry; stopped');
        else {
          logger.error({ sandbox, err: error }, 'Streaming evaluation of a sandbox failed; it is claimed again shortly');
          retryAt.set(sandbox, wall() + RETRY_AFTER_MS);
        }
        // Fenced by the epoch: a no-op when another worker holds the lease by now.
        await leases.release(lease, new Date(wall())).catch(() => undefined);
      },
    );
  };

  const tick = async (): Promise<void> => {
    for (const [sandbox, entry] of running) {
      if (entry.finished) {
        running.delete(sandbox);
        continue;
      }
      // A deleted sandbox's partition stops before its next write could recreate the dropped database.
      if (deps.databases.isSandboxDeleted(sandbox)) {
        entry.finished = true;
        entry.partition.stop();
        continue;
      }
      const at = wall();
      const renewed = await leases.renew(entry.lease, new Date(at + leaseMs)).catch((error: unknown) => {
        logger.warn({ sandbox, err: error }, 'Could not renew a streaming lease');
        return null;
      });
      if (renewed === true) entry.heldUntil = at + leaseMs;
      else if (renewed === false) {
        // Someone else holds it now: stop before writing anything more.
        entry.finished = true;
        entry.partition.stop();
      }
    }
    if (wall() - listedAt >= relistEveryMs) {
      sandboxes = (await tenancy.listSandboxes()).map((record) => record._id).filter((name) => options.sandboxes?.(name) ?? true);
      listedAt = wall();
    }
    for (const sandbox of sandboxes) {
      if (stopped) return;
      if (running.has(sandbox) || (retryAt.get(sandbox) ?? 0) > wall() || deps.databases.isSandboxDeleted(sandbox)) continue;
      await startPartition(sandbox).catch((error: unknown) => logger.warn({ sandbox, err: error }, 'Could not claim a streaming lease'));
    }
  };

  let ticking: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    try {
      await tick();
    } catch (error) {
      logger.error({ err: error }, 'Streaming evaluator tick failed');
    }
    if (!stopped) timer = setTimeout(() => void (ticking = loop()), renewEveryMs);
  };
  await (ticking = loop());
  logger.info({ leaseMs }, 'Streaming evaluator started');

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      for (const entry of running.values()) entry.partition.stop();
      await Promise.all([...running.values()].map((entry) => entry.done));
      running.clear();
      logger.info('Streaming evaluator stopped');
    },
  };
}
