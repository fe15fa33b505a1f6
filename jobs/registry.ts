/**
 * Every job the worker runs. Job modules live with the feature that owns their
 * data (see subgraphs/README.md); each is added here in one line.
 */
import type { JobModule } from '../lib/jobs.js';
import { importJob, importSweepJob } from '../subgraphs/profile/imports/index.js';

export const JOBS: readonly JobModule[] = [importJob, importSweepJob];
