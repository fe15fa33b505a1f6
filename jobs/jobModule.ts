/**
 * The shape of every job: one module per job, with a name constant, a typed
 * payload and a `define` that registers its handler. A job must be safe to run
 * twice: several workers may run at once, and a killed worker's job is retried.
 */
import type { Agenda } from 'agenda';
import type { Databases } from '../lib/mongo/databases.js';
import type { Logger } from '../lib/logger.js';

export interface JobDependencies {
  databases: Databases;
  logger: Logger;
  now: () => Date;
}

export interface JobModule {
  readonly name: string;
  define(agenda: Agenda, deps: JobDependencies): void;
}
