/**
 * One import, start to finish: read the stored file's rows, map them, send them
 * in batches of up to 1000 to the subgraphs, a few at once, record rejected rows,
 * and checkpoint after every batch, in file order. Safe to run twice and to
 * resume after a crash: rows up to the checkpoint are skipped, a batch sent
 * again is absorbed by the upserts' idempotency on source key, rejected rows are
 * stored by line, and the counters move only with the checkpoint, so they end exact.
 */
import type { Logger } from '../../../lib/logger.js';
import type { ImportRecord, ImportRowError, ImportsRepository } from './imports.repository.js';
import { countCsvRecords, readCsv } from './chunkStream.js';
import { IngestionError, type IngestionClient } from './ingestionClient.js';
import { createRowMapper, findMapping, missingColumnsProblem, resolveColumns, RowError } from './mappings/index.js';
import { INGEST_ORDER, type IngestKind, type IngestRecord, type RowRecords } from './mappings/records.js';
import { BatchKeys } from './recordKeys.js';
import type { SourceName } from './sources.js';

export const MAX_BATCH_ROWS = 1000;

/** Where an import has got to: the line reached and the row counts up to it (see ImportRecord). */
export interface ImportProgress {
  checkpointLine: number;
  rowsImported: number;
  rowsRejected: number;
  rowsPartial: number;
}
/** Most batches sent before the oldest has answered (see BatchPipeline). */
export const MAX_BATCHES_IN_FLIGHT = 4;

export interface RunImportDeps {
  imports: ImportsRepository;
  client: IngestionClient;
  logger: Logger;
  now: () => Date;
  /** Called after each checkpoint (the Agenda job extends its lock here). */
  onProgress?: (record: ImportProgress) => Promise<void>;
  batchRows?: number;
  /** Batches in flight at once, 1 to MAX_BATCHES_IN_FLIGHT; one at a time by default. */
  batchesInFlight?: number;
  /** Called each time a batch must wait for one in flight before it is sent, with the waiting batch's last line. */
  onBatchHeld?: (lastLine: number) => void;
}

/** The import cannot go on; the message says what to fix. */
export class ImportFailure extends Error {
  override name = 'ImportFailure';
}

export interface PendingRow {
  line: number;
  records: RowRecords;
}

const WHAT: Record<IngestKind, string> = {
  people: 'person',
  accounts: 'account',
  opportunities: 'opportunity',
  accountLinks: 'account link',
  opportunityContacts: 'opportunity contact',
  events: 'event',
};

export async function runImport(importId: string, deps: RunImportDeps): Promise<ImportRecord | null> {
  const { imports, logger } = deps;
  const found = await imports.findById(importId);
  if (!found || !['QUEUED', 'RUNNING'].includes(found.status)) {
    logger.info({ importId, status: found?.status }, 'Import not runnable; nothing to do');
    return found;
  }
  const record =
    found.status === 'QUEUED'
      ? ((await imports.transition(importId, ['QUEUED'], 'RUNNING', { startedAt: deps.now() }, deps.now())) ?? found)
      : found;
  try {
    // Counted beside the import rather than before it: the total only serves progress, so the first batch need not wait.
    // Both run to their end before the import is reported, whatever happens to the other.
    const [processed, counted] = await Promise.allSettled([
      processRows(record, deps),
      record.rowsTotal === 0 ? countRows(importId, imports, deps.now) : undefined,
    ]);
    if (processed.status === 'rejected') throw processed.reason;
    if (counted.status === 'rejected') throw counted.reason;
    const progress = processed.value;
    const done = await imports.transition(
      importId,
      ['RUNNING'],
      'SUCCEEDED',
      { ...progress, rowsTotal: progress.rowsImported + progress.rowsRejected, finishedAt: deps.now() },
      deps.now(),
    );
    await imports.deleteChunks(importId);
    logger.info({ importId, ...progress }, 'Import succeeded');
    return done;
  } catch (error) {
    // Anything else (the worker's database connection lost) leaves the import RUNNING for a rerun to resume.
    if (!(error instanceof ImportFailure) && !(error instanceof IngestionError)) throw error;
    const failure =
      error instanceof IngestionError
        ? `The import stopped because ${error.message}. Rows before the failed batch were imported; check that the subgraphs are running, ` +
          'then import the file again (rows already imported are updated, not duplicated)'
        : error.message;
    logger.warn({ importId, failure }, 'Import failed');
    const failed = await imports.transition(importId, ['RUNNING'], 'FAILED', { failure, finishedAt: deps.now() }, deps.now());
    // A failed import is not run again (the file is imported anew), so its chunks would only hold the sandbox's upload quota.
    await imports.deleteChunks(importId);
    return failed;
  }
}

async function countRows(importId: string, imports: ImportsRepository, now: () => Date): Promise<void> {
  await imports.setRowsTotal(importId, await countCsvRecords(imports.readChunks(importId)), now());
}

async function processRows(record: ImportRecord, deps: RunImportDeps) {
  const mapping = findMapping(record.source as SourceName, record.entity);
  const context = { instance: record.instance, ...(record.crmInstance ? { crmInstance: record.crmInstance } : {}) };
  const batchRows = Math.min(deps.batchRows ?? MAX_BATCH_ROWS, MAX_BATCH_ROWS);
  const pipeline = new BatchPipeline(record, deps);
  let mapRow: ReturnType<typeof createRowMapper> | undefined;
  let batch = new PendingBatch();

  try {
    for await (const item of readCsv(deps.imports.readChunks(record.id))) {
      if (item.kind === 'header') {
        const columns = resolveColumns(mapping, item.columns, record.mapping ?? {});
        const problem = missingColumnsProblem(mapping, item.columns, columns);
        if (problem) throw new ImportFailure(problem);
        mapRow = createRowMapper(mapping, columns, context);
        continue;
      }
      if (item.line <= record.checkpointLine) continue;
      batch.lastLine = item.line;
      if (item.kind === 'error') {
        batch.errors.push({ line: item.line, code: item.code, reason: item.reason });
      } else {
        try {
          batch.addRow({ line: item.line, records: mapRow!(item.values) });
        } catch (error) {
          if (!(error instanceof RowError)) throw error;
          batch.errors.push({ line: item.line, code: error.code, reason: error.message });
        }
      }
      if (batch.size >= batchRows) {
        await pipeline.send(batch);
        batch = new PendingBatch();
      }
    }
    if (!mapRow) throw new ImportFailure('The file is empty: it needs a header line naming its columns, then one row per record');
    if (batch.size > 0) await pipeline.send(batch);
    await pipeline.drain();
  } catch (error) {
    // No batch may still be writing once the import is reported failed or the job gives up.
    await pipeline.settle();
    throw error;
  }
  return pipeline.progress;
}

/** Rows read since the last batch was sent, with the keys their records touch. */
class PendingBatch {
  rows: PendingRow[] = [];
  errors: ImportRowError[] = [];
  lastLine = 0;
  readonly keys = new BatchKeys();

  get size(): number {
    return this.rows.length + this.errors.length;
  }

  addRow(row: PendingRow): void {
    this.rows.push(row);
    for (const record of [row.records.main, ...row.records.related]) this.keys.add(record);
  }
}

interface InFlight {
  batch: PendingBatch;
  sent: Promise<ImportRowError[]>;
  /** Settles once this batch and every batch before it are committed; rejects from the first that failed. */
  committed: Promise<void>;
  failed: boolean;
}

/**
 * Up to `batchesInFlight` batches sent at once, while the file is read on. They
 * are committed (errors recorded, counters and checkpoint moved) strictly in
 * file order, each as soon as it and the batches before it are written, so the
 * checkpoint only ever covers a contiguous prefix of finished batches and a
 * resumed import sends again exactly what might not be written. A batch that
 * shares a key with one in flight waits for it, so rows that refer to each
 * other, or to the same person, are written in file order as before.
 */
class BatchPipeline {
  readonly progress: ImportProgress;
  private readonly inFlight: InFlight[] = [];
  private readonly limit: number;
  /** The newest batch's commit, which the next one's follows. */
  private lastCommit: Promise<void> = Promise.resolve();

  constructor(
    private readonly record: ImportRecord,
    private readonly deps: RunImportDeps,
  ) {
    this.progress = {
      checkpointLine: record.checkpointLine,
      rowsImported: record.rowsImported,
      rowsRejected: record.rowsRejected,
      rowsPartial: record.rowsPartial ?? 0,
    };
    this.limit = Math.max(1, Math.min(deps.batchesInFlight ?? 1, MAX_BATCHES_IN_FLIGHT));
  }

  async send(batch: PendingBatch): Promise<void> {
    while (
      this.inFlight.length >= this.limit ||
      this.inFlight.some((entry) => entry.failed || entry.batch.keys.conflictsWith(batch.keys))
    ) {
      this.deps.onBatchHeld?.(batch.lastLine);
      await this.retireOldest();
    }
    const sent = sendRows(batch.rows, this.deps.client);
    const committed = this.lastCommit.then(() => sent).then((errors) => this.commit(batch, errors));
    const entry: InFlight = { batch, sent, committed, failed: false };
    // Noticed here so no further batch is sent; thrown, in file order, by retireOldest.
    sent.catch(() => {
      entry.failed = true;
    });
    committed.catch(() => undefined);
    this.lastCommit = committed;
    this.inFlight.push(entry);
  }

  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.retireOldest();
  }

  /** Waits for every batch still in flight, and its commit, ignoring their outcome. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight.flatMap((entry) => [entry.sent, entry.committed]));
  }

  private async retireOldest(): Promise<void> {
    await this.inFlight[0]!.committed;
    this.inFlight.shift();
  }

  private async commit(batch: PendingBatch, sentErrors: ImportRowError[]): Promise<void> {
    const batchErrors = [...batch.errors, ...sentErrors];
    await this.deps.imports.recordErrors(this.record.id, batchErrors);
    // A row whose main record was written counts as imported, even when a related record (its account link) was not.
    const rejectedLines = new Set(batchErrors.filter((error) => !error.partial).map((error) => error.line));
    const partialLines = new Set(batchErrors.filter((error) => error.partial && !rejectedLines.has(error.line)).map((error) => error.line));
    this.progress.rowsRejected += rejectedLines.size;
    this.progress.rowsPartial += partialLines.size;
    this.progress.rowsImported += batch.rows.filter((row) => !rejectedLines.has(row.line)).length;
    this.progress.checkpointLine = batch.lastLine;
    await this.deps.imports.checkpoint(this.record.id, this.progress, this.deps.now());
    await this.deps.onProgress?.(this.progress);
  }
}

/**
 * Sends a batch's records, kind by kind, and returns the errors of rows with a rejected record:
 * `partial` when the row's main record was written and only a related one was rejected.
 */
export async function sendRows(rows: readonly PendingRow[], client: IngestionClient): Promise<ImportRowError[]> {
  const byKind = new Map<IngestKind, Array<{ line: number; main: boolean; record: IngestRecord }>>();
  for (const row of rows) {
    for (const [position, record] of [row.records.main, ...row.records.related].entries()) {
      const list = byKind.get(record.kind) ?? [];
      list.push({ line: row.line, main: position === 0, record });
      byKind.set(record.kind, list);
    }
  }
  const errors = new Map<number, ImportRowError>();
  for (const kind of INGEST_ORDER) {
    const entries = byKind.get(kind);
    if (!entries) continue;
    const results = await client.send(kind, entries.map((entry) => entry.record.input) as never);
    for (const result of results) {
      if (result.status !== 'REJECTED') continue;
      const entry = entries[result.index]!;
      const message = result.error?.message ?? 'rejected';
      const reason = entry.main
        ? `${WHAT[kind]} rejected: ${message}`
        : `the row's main record was kept, but its ${WHAT[kind]} was rejected: ${message}`;
      const previous = errors.get(entry.line);
      errors.set(entry.line, {
        line: entry.line,
        code: previous?.code ?? result.error?.code ?? 'REJECTED',
        reason: previous ? `${previous.reason}; ${reason}` : reason,
        partial: (previous?.partial ?? true) && !entry.main,
      });
    }
  }
  return [...errors.values()];
}
