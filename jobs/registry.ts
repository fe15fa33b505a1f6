/**
 * Every job the worker runs. Job modules live with the feature that owns their
 * data (see subgraphs/README.md); each is added here in one line.
 */
import type { JobModule, WorkerService } from '../lib/jobs.js';
import { activationDeliveryService, deliverActivationJob } from '../subgraphs/destination/activations/index.js';
import { importJob, importSweepJob } from '../subgraphs/profile/imports/index.js';
import { mergePolicyJob } from '../subgraphs/profile/mergePolicy/mergePolicy.job.js';
import { mergePolicySweepJob } from '../subgraphs/profile/mergePolicy/mergePolicySweep.job.js';
import { sourceSyncJob } from '../subgraphs/profile/sources/index.js';
import { evaluateSegmentsJob, evaluationSweepJob } from '../subgraphs/segment/evaluation/index.js';
import { streamingEvaluatorService } from '../subgraphs/segment/streaming/index.js';

export const JOBS: readonly JobModule[] = [importJob, importSweepJob, mergePolicyJob, mergePolicySweepJob, sourceSyncJob, evaluateSegmentsJob, evaluationSweepJob, deliverActivationJob];

/** Long-running services the worker runs beside its jobs. */
export const WORKER_SERVICES: readonly WorkerService[] = [streamingEvaluatorService, activationDeliveryService];
