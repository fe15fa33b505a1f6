/**
 * The `deliverActivation` job: one run of a scheduled activation, on its cron
 * (and once at activation, for the backfill). It takes the activation's lease,
 * so two workers never deliver it at once (a run that finds it held leaves it to
 * the holder), delivers everything due (a FULL file activation writes its whole
 * audience again under a new run id), and releases the lease. A worker killed
 * mid-run leaves the stored position and the batch in flight; the next run, or
 * Agenda's retry of this one, resumes from there.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Agenda } from 'agenda';
import type { JobDependencies, JobModule } from '../../../lib/jobs.js';
import { ActivationDelivery, isFullFileActivation } from './activationDelivery.js';
import { ActivationLeasesRepository } from './activationLeases.repository.js';
import { ActivationsRepository } from './activations.repository.js';
import { DELIVER_ACTIVATION_JOB_NAME, type DeliverActivationPayload } from './activationScheduler.js';
import { createDeliveryEnvironment, type DeliveryEnvironment, type DeliveryEnvironmentOptions } from './deliveryEnvironment.js';

/** Work due within this long is waited for inside a run rather than left to another one. */
const WAIT_IN_RUN_MS = 60_000;

export interface DeliverActivationJobOptions extends Partial<Omit<DeliveryEnvironmentOptions, 'databases' | 'encryptionKey' | 'logger'>> {
  /** How long the lease lasts without renewal; renewed while the run goes on. @default 60 000 */
  leaseMs?: number;
}

export function createDeliverActivationJob(options: DeliverActivationJobOptions = {}): JobModule {
  const leaseMs = options.leaseMs ?? 60_000;
  const wall = options.wall ?? Date.now;
  return {
    name: DELIVER_ACTIVATION_JOB_NAME,
    define(agenda: Agenda, deps: JobDependencies) {
      const encryptionKey = deps.security.encryptionKey;
      let env: DeliveryEnvironment | undefined;
      const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}:job`;
      agenda.define<DeliverActivationPayload>(
        DELIVER_ACTIVATION_JOB_NAME,
        async (job) => {
          const { sandbox, activationId } = job.attrs.data;
          const logger = deps.logger.child({ job: DELIVER_ACTIVATION_JOB_NAME, sandbox, activationId });
          if (!encryptionKey) throw new Error('This worker has no encryption key to open destination credentials');
          env ??= createDeliveryEnvironment({
            ...options,
            databases: deps.databases,
            encryptionKey,
            logger: deps.logger,
            now: options.now ?? deps.now,
            allowPrivateDestinations: deps.security.allowPrivateDestinations,
          });
          const activation = await new ActivationsRepository(deps.databases.sandbox(sandbox)).find(activationId);
          if (!activation || activation.status !== 'ACTIVE') return;
          const leases = new ActivationLeasesRepository(deps.databases.platform());
          const at = wall();
          const lease = await leases.claim(sandbox, activationId, owner, new Date(at), new Date(at + leaseMs));
          if (!lease) {
            logger.info('Another worker is delivering this activation; this run leaves it to it');
            return;
          }
          let heldUntil = at + leaseMs;
          const renew = setInterval(() => {
            const now = wall();
            void leases.renew(lease, new Date(now + leaseMs)).then((held) => {
              if (held) heldUntil = now + leaseMs;
            });
            void job.touch().catch(() => undefined);
          }, leaseMs / 4);
          try {
            const delivery = new ActivationDelivery(env, sandbox, activationId, lease.epoch);
            if (!(await delivery.fence())) return;
            if (isFullFileActivation(activation) && activation.backfill.done) await delivery.startFullRun();
            const isHeld = () => wall() < heldUntil - leaseMs / 4;
            let result = await delivery.drain({ isHeld });
            // Work due shortly (the backfill waits for the log's seal window) is done in this run.
            while (result.wakeAt && result.wakeAt.getTime() - env.now().getTime() <= WAIT_IN_RUN_MS && isHeld()) {
              await delay(Math.max(10, result.wakeAt.getTime() - env.now().getTime()));
              result = await delivery.drain({ isHeld });
            }
            // Later work (retries coming due) gets a run of its own then, not at the next cron time.
            if (result.wakeAt && !result.finished) {
              await agenda.create(DELIVER_ACTIVATION_JOB_NAME, { sandbox, activationId, once: true }).unique({ 'data.sandbox': sandbox, 'data.activationId': activationId, 'data.once': true }).schedule(result.wakeAt).save();
            }
            logger.info({ ...result.counts, batches: result.batches }, 'Scheduled delivery ran');
          } finally {
            clearInterval(renew);
            await leases.release(lease).catch(() => undefined);
          }
        },
        { concurrency: 4, lockLifetime: leaseMs * 2 },
      );
    },
  };
}

/** The job as the worker registers it. */
export const deliverActivationJob: JobModule = createDeliverActivationJob();
