/** Every job the worker knows. Each job module is added here in one line. */
import type { JobModule } from '../lib/jobs.js';
import { importJob } from './import/import.job.js';
import { importSweepJob } from './importSweep.job.js';

export const JOBS: readonly JobModule[] = [importJob, importSweepJob];
