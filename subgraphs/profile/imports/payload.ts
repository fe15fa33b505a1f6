/** The import job's name and payload, shared by the job and the service that schedules it. */
import type { Principal } from '../../../lib/auth/roles.js';

export const IMPORT_JOB_NAME = 'import-file';

export interface ImportJobPayload {
  sandbox: string;
  importId: string;
  /** Who started the import: the job writes with this sandbox and role, through the subgraphs. */
  principal: Principal;
}
