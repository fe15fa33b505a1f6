/**
 * Imports of Marketo and Salesforce export files: one feature, owned by the
 * profile subgraph, which is the only writer of `imports`, `importChunks` and
 * `importErrors`. Everything about imports lives in this folder:
 *
 * - the API side (`imports.service.ts`, `imports.repository.ts`, `importJobScheduler.ts`), used by the
 *   profile subgraph's `startImport`, `uploadImportChunk`, `completeImportUpload`, `deleteImport` and `import(id)`,
 *   with the upload bounds (`config.security.uploads`);
 * - the job side (`import.job.ts`, `importSweep.job.ts` (which also expires abandoned uploads), `runImport.ts`, `mappings/`, `sources.ts`),
 *   registered by the worker; it writes people, accounts and the rest through the owning subgraphs'
 *   ingestion mutations (`ingestionClient.ts`), never their collections;
 * - the client side (`cli/`): `npm run import` streams a file in chunks and follows the import.
 *
 * This file is the surface other folders use; tests may reach further in.
 */
export { importJob } from './import.job.js';
export { importSweepJob } from './importSweep.job.js';
export { createImportJobScheduler, type ImportJobScheduler } from './importJobScheduler.js';
export { ImportsRepository, type ImportRecord } from './imports.repository.js';
export { ImportsService, type StartImportInput } from './imports.service.js';
export { CHUNK_CHARS, uploadFile } from './cli/upload.js';
export { readCsv } from './chunkStream.js';
export { createRowMapper, findMapping, resolveColumns } from './mappings/index.js';
export type { SourceName } from './sources.js';
