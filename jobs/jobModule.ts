/**
 * The shape of every job: one module per job, with a name constant, a typed
 * payload and a `define` that registers its handler. A job must be safe to run
 * twice: several workers may run at once, and a killed worker's job is retried.
 */
import type { Agenda } from 'agenda';
import type { SecurityConfig, SubgraphName } from '../lib/config.js';
import type { Databases } from '../lib/mongo/databases.js';
import type { Logger } from '../lib/logger.js';

export interface JobDependencies {
  databases: Databases;
  logger: Logger;
  now: () => Date;
  /** Where jobs reach the subgraphs, which stay the only writers of their collections. */
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /** Jobs sign their own gateway tokens (for the sandbox and role that started them). */
  security: Pick<SecurityConfig, 'gatewaySecret'>;
}

export interface JobModule {
  readonly name: string;
  define(agenda: Agenda, deps: JobDependencies): void;
}
