/**
 * Streaming delivery as a worker service. Every worker process runs one; they
 * share the work through `activationLeases` in MongoDB: each claims continuous
 * activations (streaming ones, and deactivations that take members out) nobody
 * holds, renews what it holds, and runs one deliverer per held activation, so
 * at most one process delivers an activation at a time. A dead worker's
 * activations are claimed by another once their leases end; it resumes from the
 * stored position.
 *
 * A deliverer drains what is due, then waits for a change of its segment in the
 * membership event log (one change stream per process, through the segment
 * view), or `pollMs` at most (retries coming due, re-driven dead letters).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobDependencies, RunningWorkerService, WorkerService } from '../../../lib/jobs.js';
import type { FeedSubscription } from '../../../lib/subgraph/changeFeed.js';
import { watchChanges } from '../../segment/segment.view.js';
import { ActivationDelivery, LeaseLostError } from './activationDelivery.js';
import { ActivationLeasesRepository, type HeldActivationLease } from './activationLeases.repository.js';
import { ActivationsRepository } from './activations.repository.js';
import { createDeliveryEnvironment, type DeliveryEnvironment, type DeliveryEnvironmentOptions } from './deliveryEnvironment.js';

export const ACTIVATION_DELIVERY_SERVICE_NAME = 'activationDelivery';

export interface ActivationDeliveryOptions extends Partial<Omit<DeliveryEnvironmentOptions, 'databases' | 'encryptionKey' | 'logger'>> {
  /** How long a lease lasts without renewal. @default 15 000 */
  leaseMs?: number;
  /** How often leases are renewed and free activations claimed. @default leaseMs / 5 */
  renewEveryMs?: number;
  /** The longest a deliverer waits without a change of its segment. @default 1 000 */
  pollMs?: number;
  /** Names this worker in the leases. */
  owner?: string;
}

interface Deliverer {
  lease: HeldActivationLease;
  segmentId: string;
  heldUntil: number;
  stopped: boolean;
  /** A change of its segment arrived since the deliverer last looked. */
  signalled: boolean;
  resume: (() => void) | undefined;
  done: Promise<void>;
}

function wake(deliverer: Deliverer): void {
  deliverer.signalled = true;
  deliverer.resume?.();
}

export function createActivationDeliveryService(options: ActivationDeliveryOptions = {}): WorkerService {
  return { name: ACTIVATION_DELIVERY_SERVICE_NAME, start: (deps) => startDelivery(deps, options) };
}

/** The service as the worker registers it. */
export const activationDeliveryService: WorkerService = createActivationDeliveryService();

async function startDelivery(deps: JobDependencies, options: ActivationDeliveryOptions): Promise<RunningWorkerService> {
  const logger = deps.logger.child({ component: ACTIVATION_DELIVERY_SERVICE_NAME });
  const encryptionKey = deps.security.encryptionKey;
  if (!encryptionKey) {
    logger.warn('No encryption key: this worker delivers no activations (credentials cannot be read)');
    return { stop: async () => {} };
  }
  const leaseMs = options.leaseMs ?? 15_000;
  const renewEveryMs = options.renewEveryMs ?? Math.max(50, Math.floor(leaseMs / 5));
  const pollMs = options.pollMs ?? 1_000;
  const wall = options.wall ?? Date.now;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const env: DeliveryEnvironment = createDeliveryEnvironment({
    ...options,
    databases: deps.databases,
    encryptionKey,
    logger,
    now: options.now ?? deps.now,
    allowPrivateDestinations: deps.security.allowPrivateDestinations,
  });
  const leases = new ActivationLeasesRepository(deps.databases.platform());
  await leases.ensureIndexes();

  const deliverers = new Map<string, Deliverer>();
  const feeds = new Map<string, Promise<FeedSubscription | undefined>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** One change-stream listener per sandbox, waking the deliverers of the changed segment. */
  const watch = (sandbox: string) => {
    if (feeds.has(sandbox)) return;
    const feed = watchChanges(deps.databases.sandbox(sandbox), {
      next: (change) => {
        for (const deliverer of deliverers.values()) if (deliverer.lease.sandbox === sandbox && deliverer.segmentId === change.segmentId) wake(deliverer);
      },
      error: (error) => {
        logger.warn({ sandbox, err: error }, 'The event log stream failed; deliverers poll until it reopens');
        feeds.delete(sandbox);
      },
    }).catch((error: unknown) => {
      logger.warn({ sandbox, err: error }, 'Could not watch the event log; deliverers poll');
      feeds.delete(sandbox);
      return undefined;
    });
    feeds.set(sandbox, feed);
  };

  const run = async (deliverer: Deliverer, delivery: ActivationDelivery): Promise<void> => {
    const held = () => !deliverer.stopped && wall() < deliverer.heldUntil - renewEveryMs;
    while (held()) {
      let wakeAt: Date | undefined;
      deliverer.signalled = false;
      try {
        const result = await delivery.drain({ isHeld: held, maxSteps: 50 });
        if (result.finished) return;
        if (result.batches > 0) continue;
        wakeAt = result.wakeAt;
      } catch (error) {
        if (error instanceof LeaseLostError) return;
        logger.error({ activationId: deliverer.lease.activationId, err: error }, 'Delivery step failed; trying again shortly');
      }
      if (deliverer.signalled || !held()) continue;
      const waitMs = Math.max(1, Math.min(pollMs, wakeAt ? wakeAt.getTime() - env.now().getTime() : pollMs));
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, waitMs);
        deliverer.resume = () => {
          clearTimeout(timeout);
          resolve();
        };
      });
      deliverer.resume = undefined;
    }
  };

  const start = async (sandbox: string, activationId: string): Promise<void> => {
    const at = wall();
    const lease = await leases.claim(sandbox, activationId, owner, new Date(at), new Date(at + leaseMs));
    if (!lease) return;
    const activation = await new ActivationsRepository(deps.databases.sandbox(sandbox)).find(activationId);
    const delivery = new ActivationDelivery(env, sandbox, activationId, lease.epoch);
    if (!activation || !(await delivery.fence())) {
      if (!activation) await leases.remove(sandbox, activationId);
      else await leases.release(lease);
      return;
    }
    const deliverer: Deliverer = { lease, segmentId: activation.segmentId, heldUntil: at + leaseMs, stopped: false, signalled: false, resume: undefined, done: Promise.resolve() };
    deliverers.set(`${sandbox}/${activationId}`, deliverer);
    watch(sandbox);
    logger.info({ sandbox, activationId, epoch: lease.epoch }, 'Delivering an activation');
    deliverer.done = run(deliverer, delivery).finally(async () => {
      deliverer.stopped = true;
      deliverers.delete(`${sandbox}/${activationId}`);
      await leases.release(lease).catch(() => undefined);
    });
  };

  const tick = async (): Promise<void> => {
    for (const deliverer of deliverers.values()) {
      const at = wall();
      const renewed = await leases.renew(deliverer.lease, new Date(at + leaseMs)).catch(() => null);
      if (renewed === true) deliverer.heldUntil = at + leaseMs;
      else if (renewed === false) {
        deliverer.stopped = true;
        wake(deliverer);
      }
    }
    for (const free of await leases.claimable(new Date(wall()), 100)) {
      if (stopped) return;
      if (deliverers.has(`${free.sandbox}/${free.activationId}`)) continue;
      await start(free.sandbox, free.activationId).catch((error: unknown) => logger.warn({ err: error, activationId: free.activationId }, 'Could not start delivering an activation'));
    }
  };

  let ticking: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    try {
      await tick();
    } catch (error) {
      logger.error({ err: error }, 'Activation delivery tick failed');
    }
    if (!stopped) timer = setTimeout(() => void (ticking = loop()), renewEveryMs);
  };
  await (ticking = loop());
  logger.info({ leaseMs, owner }, 'Activation delivery started');

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      for (const deliverer of deliverers.values()) {
        deliverer.stopped = true;
        wake(deliverer);
      }
      await Promise.all([...deliverers.values()].map((deliverer) => deliverer.done));
      for (const feed of feeds.values()) (await feed)?.leave();
      feeds.clear();
      logger.info('Activation delivery stopped');
    },
  };
}
