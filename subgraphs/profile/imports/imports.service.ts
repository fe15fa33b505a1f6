/**
 * Batch imports (backfills) of Marketo and Salesforce export files. A client
 * starts an import, uploads the file's content in chunks (the server never opens
 * a path a client names), then completes the upload, which schedules the import
 * job (import.job.ts beside this file) on the worker. Any role reads imports; starting
 * and uploading needs the editor role.
 *
 * Wiring (profile subgraph): one scheduler per process, a service per request:
 *
 *   const scheduler = createImportJobScheduler(options.databases);        // server.ts
 *   new ImportsService(new ImportsRepository(scope.db), {                 // context.ts
 *     principal: scope.principal, now: scope.now, scheduler });
 *
 * `newId` may be injected for deterministic ids (default: `imp_<time><random>`).
 */
import { randomBytes } from 'node:crypto';
import { requireRole, type Principal } from '../../../lib/auth/roles.js';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from '../../../lib/config.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../../lib/errors.js';
import { findMapping, mappingOverrideProblems } from './mappings/index.js';
import { canonicalEntity, isSourceName, SOURCES, type SourceName } from './sources.js';
import type { ImportJobScheduler } from './importJobScheduler.js';
import type { ImportRecord, ImportRowError, ImportsRepository } from './imports.repository.js';

export interface StartImportInput {
  source: string;
  instance: string;
  entity: string;
  crmInstance?: string | null;
  /** Column -> field; see mappings/index.ts. */
  mapping?: Record<string, unknown> | null;
}

export interface ImportsServiceDeps {
  readonly principal: Principal;
  readonly now: () => Date;
  readonly scheduler: ImportJobScheduler;
  /** `config.security.uploads`; the defaults when left out. */
  readonly limits?: UploadLimits;
  readonly newId?: () => string;
}

/** Largest chunk of CSV text, in UTF-8 bytes. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** Most chunks of one file (100 GiB at the largest chunk size). */
export const MAX_CHUNKS = 100_000;
export const DEFAULT_ERRORS_PAGE = 100;
export const MAX_ERRORS_PAGE = 1000;
export const DEFAULT_IMPORTS_PAGE = 20;
export const MAX_IMPORTS_PAGE = 100;

const newImportId = () => `imp_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;

function pageSize(value: number | null | undefined, fallback: number, max: number, field: string): number {
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput(`${field} must be an integer from 1 to ${max} (got ${size})`, { field });
  return size;
}

function chunkIndex(index: number, field: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw badInput(`${field} must be an integer from 0 to ${MAX_CHUNKS - 1} (got ${index})`, { field });
  }
}

/** Validates `startImport`'s input; each error names the field and what to send instead. */
export function parseStartImportInput(input: StartImportInput): Omit<ImportRecord, 'id' | 'status' | 'rowsTotal' | 'rowsImported' | 'rowsRejected' | 'chunkCount' | 'checkpointLine' | 'createdAt' | 'updatedAt' | 'startedAt' | 'finishedAt' | 'failure'> {
  const sourceRaw = input.source.trim().toLowerCase();
  if (!isSourceName(sourceRaw)) {
    throw badInput(`source ${JSON.stringify(input.source)} is not supported; use one of ${Object.keys(SOURCES).join(', ')}`, { field: 'source' });
  }
  const source: SourceName = sourceRaw;
  const spec = SOURCES[source];
  const entity = canonicalEntity(source, input.entity);
  if (!entity) {
    throw badInput(`entity ${JSON.stringify(input.entity)} is not a ${source} export; use one of ${spec.entities.join(', ')}`, { field: 'entity' });
  }
  const instance = input.instance.trim();
  if (!spec.instancePattern.test(instance)) {
    throw badInput(
      `instance ${JSON.stringify(input.instance.slice(0, 60))} is not a ${spec.sourceType} instance id; use the form ${spec.instanceExample}`,
      { field: 'instance' },
    );
  }
  let crmInstance: string | null = null;
  if (input.crmInstance != null && input.crmInstance.trim() !== '') {
    crmInstance = input.crmInstance.trim();
    if (source !== 'marketo') throw badInput('crmInstance applies to Marketo imports only: it names the Salesforce org Marketo syncs with', { field: 'crmInstance' });
    if (!SOURCES.salesforce.instancePattern.test(crmInstance)) {
      throw badInput(`crmInstance ${JSON.stringify(crmInstance.slice(0, 60))} is not a Salesforce org id; use the form ${SOURCES.salesforce.instanceExample}`, {
        field: 'crmInstance',
      });
    }
  }
  let mapping: Record<string, string> | null = null;
  if (input.mapping != null) {
    const problems = mappingOverrideProblems(findMapping(source, entity), input.mapping);
    if (problems.length > 0) throw badInput(`The mapping is invalid: ${problems.join('; ')}`, { field: 'mapping', problems });
    mapping = input.mapping as Record<string, string>;
  }
  return { source, instance, entity, crmInstance, mapping };
}

export class ImportsService {
  private readonly newId: () => string;
  private readonly limits: UploadLimits;

  constructor(
    private readonly imports: ImportsRepository,
    private readonly deps: ImportsServiceDeps,
  ) {
    this.newId = deps.newId ?? newImportId;
    this.limits = deps.limits ?? DEFAULT_UPLOAD_LIMITS;
  }

  async start(input: StartImportInput): Promise<ImportRecord> {
    requireRole(this.deps.principal, 'editor');
    const parsed = parseStartImportInput(input);
    await this.imports.ensureIndexes();
    const now = this.deps.now();
    const { sandbox, role, keyId } = this.deps.principal;
    return this.imports.insert({
      id: this.newId(),
      ...parsed,
      principal: keyId === undefined ? { sandbox, role } : { sandbox, role, keyId },
      status: 'UPLOADING',
      rowsTotal: 0,
      rowsImported: 0,
      rowsRejected: 0,
      rowsPartial: 0,
      chunkCount: null,
      checkpointLine: 1,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      failure: null,
      uploadedBytes: 0,
      uploadExpiresAt: this.expiresAt(now),
    });
  }

  /** Stores chunk `index` of the file; sending the same index again replaces it. */
  async uploadChunk(importId: string, index: number, content: string): Promise<ImportRecord> {
    requireRole(this.deps.principal, 'editor');
    chunkIndex(index, 'index');
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > MAX_CHUNK_BYTES) {
      throw badInput(`A chunk may hold at most ${MAX_CHUNK_BYTES} bytes of CSV text (got ${bytes}); send smaller chunks`, { field: 'content' });
    }
    const record = await this.uploading(importId);
    // A chunk sent again under its index counts what it adds to the one it replaces.
    const replacing = await this.imports.chunkBytes(importId, index);
    const reserved = Math.max(0, bytes - replacing);
    await this.reserve(record, reserved);
    const outcome = await this.imports.putChunk(importId, index, content, bytes, randomBytes(8).toString('hex'));
    // Counted: `reserved`; stored: `bytes` in place of `replacedBytes` (a refused chunk: nothing).
    await this.imports.releaseUpload(importId, outcome.stored ? reserved - (bytes - outcome.replacedBytes) : reserved);
    // completeUpload won the race: the chunk did not land, and the file is the one it checked.
    if (!outcome.stored) throw this.notUploading((await this.imports.findById(importId)) ?? record);
    return record;
  }

  /**
   * Counts a chunk's bytes against the import's cap (exactly, with one conditional update) and
   * the sandbox's quota (checked first: uploads racing each other may pass it by the chunks
   * they have in flight), refusing with LIMIT_EXCEEDED naming the limit.
   */
  private async reserve(record: ImportRecord, bytes: number): Promise<void> {
    const { maxImportBytes, sandboxQuotaBytes } = this.limits;
    const used = await this.imports.storedUploadBytes();
    if (used + bytes > sandboxQuotaBytes) {
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `This sandbox holds ${used} bytes of uploaded files and may hold ${sandboxQuotaBytes} (CDP_IMPORT_SANDBOX_QUOTA_BYTES); ` +
          'wait for running imports to finish, or delete unfinished ones with deleteImport',
        { details: { limit: 'CDP_IMPORT_SANDBOX_QUOTA_BYTES', maxBytes: sandboxQuotaBytes, usedBytes: used, chunkBytes: bytes } },
      );
    }
    if (!(await this.imports.reserveUpload(record.id, bytes, maxImportBytes, this.expiresAt(this.deps.now())))) {
      const current = await this.find(record.id);
      if (current.status !== 'UPLOADING') throw this.notUploading(current);
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `Import ${record.id} would pass ${maxImportBytes} bytes (CDP_IMPORT_MAX_BYTES) with this chunk; split the file into several imports`,
        { details: { limit: 'CDP_IMPORT_MAX_BYTES', maxBytes: maxImportBytes, usedBytes: current.uploadedBytes ?? 0, chunkBytes: bytes } },
      );
    }
  }

  /** Removes an import that is uploading or has ended, with its stored file and rejected rows; answers its id. */
  async deleteImport(importId: string): Promise<string> {
    requireRole(this.deps.principal, 'editor');
    if (await this.imports.deleteImport(importId)) return importId;
    const record = await this.find(importId);
    throw new DomainError(
      ErrorCode.Conflict,
      `Import ${importId} is ${record.status === 'UPLOADING' ? 'completing its upload' : record.status}; it can be deleted once it has ended`,
      { details: { status: record.status } },
    );
  }

  private expiresAt(now: Date): Date {
    return new Date(now.getTime() + this.limits.expiryHours * 3_600_000);
  }

  /** Checks that chunks 0..chunkCount-1 (and no others) arrived, then queues the import job. */
  async completeUpload(importId: string, chunkCount: number): Promise<ImportRecord> {
    requireRole(this.deps.principal, 'editor');
    if (!Number.isInteger(chunkCount) || chunkCount < 1 || chunkCount > MAX_CHUNKS) {
      throw badInput(`chunkCount must be an integer from 1 to ${MAX_CHUNKS} (got ${chunkCount})`, { field: 'chunkCount' });
    }
    const record = await this.find(importId);
    if (record.status !== 'UPLOADING') {
      if (record.chunkCount !== chunkCount) throw this.notUploading(record);
      // Completing again (a client retrying): make sure the job exists, change nothing else.
      if (record.status === 'QUEUED') await this.schedule(record.id);
      return record;
    }
    // Seal first, then read: a chunk write still in flight either lands before the seal (and is
    // counted) or is refused and taken back (putChunk), never both.
    if (!(await this.imports.sealUpload(importId, this.deps.now()))) return this.completeUpload(importId, chunkCount);
    await this.imports.sealChunks(importId);
    try {
      await this.checkChunks(importId, chunkCount);
    } catch (error) {
      await this.imports.unsealUpload(importId);
      throw error;
    }
    const queued = await this.imports.transition(importId, ['UPLOADING'], 'QUEUED', { chunkCount, uploadSealedAt: null }, this.deps.now());
    if (!queued) return this.completeUpload(importId, chunkCount);
    await this.schedule(importId);
    return queued;
  }

  /** BAD_USER_INPUT unless exactly chunks 0..chunkCount-1 are sealed. */
  private async checkChunks(importId: string, chunkCount: number): Promise<void> {
    const indexes = await this.imports.chunkIndexes(importId);
    const missing: number[] = [];
    for (let index = 0, at = 0; index < chunkCount && missing.length < 10; index++) {
      while (at < indexes.length && indexes[at]! < index) at++;
      if (indexes[at] !== index) missing.push(index);
    }
    if (missing.length > 0) {
      throw badInput(`Chunks ${missing.join(', ')} of ${chunkCount} have not been uploaded; upload them, then complete the upload again`, {
        field: 'chunkCount',
        missing,
      });
    }
    const extra = indexes.filter((index) => index >= chunkCount);
    if (extra.length > 0) {
      throw badInput(`Chunks ${extra.slice(0, 10).join(', ')} were uploaded beyond chunkCount ${chunkCount}; send the right chunkCount`, {
        field: 'chunkCount',
      });
    }
  }

  get(id: string): Promise<ImportRecord | null> {
    return this.imports.findById(id);
  }

  list(first?: number | null): Promise<ImportRecord[]> {
    return this.imports.list(pageSize(first, DEFAULT_IMPORTS_PAGE, MAX_IMPORTS_PAGE, 'first'));
  }

  /** Rejected rows in line order; `after` is the last line of the previous page. */
  errors(importId: string, first?: number | null, after?: number | null): Promise<ImportRowError[]> {
    const limit = pageSize(first, DEFAULT_ERRORS_PAGE, MAX_ERRORS_PAGE, 'first');
    const afterLine = after ?? 0;
    if (!Number.isInteger(afterLine) || afterLine < 0) throw badInput(`after must be a line number, 0 or more (got ${afterLine})`, { field: 'after' });
    return this.imports.listErrors(importId, limit, afterLine);
  }

  private async find(importId: string): Promise<ImportRecord> {
    const record = await this.imports.findById(importId);
    if (!record) throw notFound('Import', importId);
    return record;
  }

  private async uploading(importId: string): Promise<ImportRecord> {
    const record = await this.find(importId);
    if (record.status !== 'UPLOADING' || record.uploadSealedAt) throw this.notUploading(record);
    return record;
  }

  private notUploading(record: ImportRecord): DomainError {
    if (record.status === 'UPLOADING') {
      return new DomainError(ErrorCode.Conflict, `Import ${record.id} is completing its upload; no more chunks can be sent`, {
        details: { status: record.status },
      });
    }
    return new DomainError(
      ErrorCode.Conflict,
      `Import ${record.id} is ${record.status}: its upload was completed with ${record.chunkCount} chunks; start a new import to send another file`,
      { details: { status: record.status } },
    );
  }

  private schedule(importId: string): Promise<void> {
    const { principal } = this.deps;
    return this.deps.scheduler.schedule({ sandbox: principal.sandbox, importId, principal });
  }
}
