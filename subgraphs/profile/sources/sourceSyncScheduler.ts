/**
 * Source syncs as Agenda jobs, written by the profile subgraph into the worker's
 * job collection (it never runs them): one repeating incremental job per source
 * on its interval, and one pending "now" job per source and mode for
 * `syncSource`. Writing is idempotent per source (unique jobs); deleting a
 * source cancels its jobs.
 */
import { jobWriter } from '../../../lib/jobs.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import type { SyncMode } from './sources.repository.js';

export const SOURCE_SYNC_JOB_NAME = 'syncSource';

export interface SourceSyncPayload {
  sandbox: string;
  sourceId: string;
  mode: SyncMode;
  /** The repeating job: it respects the source's backoff and stops for a permanent failure. */
  scheduled: boolean;
}

export interface SourceSyncScheduling {
  /** The repeating incremental job every `intervalSeconds` (replacing an earlier interval), starting now. */
  schedule(sandbox: string, sourceId: string, intervalSeconds: number): Promise<void>;
  runNow(sandbox: string, sourceId: string, mode: SyncMode): Promise<void>;
  cancel(sandbox: string, sourceId: string): Promise<void>;
}

export function agendaSourceSyncScheduling(databases: Databases): SourceSyncScheduling {
  const unique = (payload: SourceSyncPayload) => ({
    'data.sandbox': payload.sandbox,
    'data.sourceId': payload.sourceId,
    'data.scheduled': payload.scheduled,
    'data.mode': payload.mode,
  });
  return {
    async schedule(sandbox, sourceId, intervalSeconds) {
      const agenda = await jobWriter(databases);
      const payload: SourceSyncPayload = { sandbox, sourceId, mode: 'INCREMENTAL', scheduled: true };
      await agenda.create(SOURCE_SYNC_JOB_NAME, payload).repeatEvery(`${intervalSeconds} seconds`).unique(unique(payload)).save();
    },
    async runNow(sandbox, sourceId, mode) {
      const agenda = await jobWriter(databases);
      const payload: SourceSyncPayload = { sandbox, sourceId, mode, scheduled: false };
      await agenda.create(SOURCE_SYNC_JOB_NAME, payload).unique(unique(payload)).schedule(new Date()).save();
    },
    async cancel(sandbox, sourceId) {
      const agenda = await jobWriter(databases);
      await agenda.cancel({ name: SOURCE_SYNC_JOB_NAME, data: { sandbox, sourceId } });
    },
  };
}
