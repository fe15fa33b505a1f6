/**
 * Sources: Marketo instances and Salesforce orgs the platform pulls from on a
 * schedule. One feature, owned by the profile subgraph, which is the only
 * writer of `sources` and `sourceRuns`:
 *
 * - the API side (`sources.service.ts`, the repositories, `sourceSyncScheduler.ts`), used by the
 *   profile subgraph's `createSource`, `updateSource`, `deleteSource`, `testSource`, `syncSource`;
 * - the job side (`sourceSync.job.ts`, `runSync.ts`, `connectors/`), registered by the worker; it
 *   writes people, accounts, events and the rest through the same mappings and ingestion
 *   mutations as the file import (`../imports/`), never their collections.
 */
export { sourceSyncJob, SOURCE_SYNC_JOB_NAME, type SourceSyncPayload } from './sourceSync.job.js';
export { agendaSourceSyncScheduling, type SourceSyncScheduling } from './sourceSyncScheduler.js';
export { SourcesRepository, type SourceRecord, type SourceType, type SyncMode } from './sources.repository.js';
export { SourceRunsRepository, type SyncRunRecord } from './sourceRuns.repository.js';
export { SourcesService, type CreateSourceInput, type UpdateSourceInput } from './sources.service.js';
export { createSourcesFeature, createSourcesService, type SourcesFeature } from './sourcesFeature.js';
