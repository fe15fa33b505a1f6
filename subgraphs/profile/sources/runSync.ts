/**
 * One sync of one source, start to finish, safe to run twice and to resume:
 *
 * - a lease on the source (sources.repository.ts) lets one worker at a time sync it; a
 *   second worker, or a manual sync while a scheduled one runs, finds it held and leaves;
 * - a run left RUNNING by a killed worker is resumed from its committed cursor;
 * - each page's rows are mapped by the import mappings and written through the
 *   subgraphs' ingestion mutations (the import's own writer, `sendRows`), then the
 *   page's counts and cursor are committed: pages before the cursor are never read
 *   again, and a page written but not committed is written again, which the upserts'
 *   idempotency on source keys absorbs;
 * - a failure ends the run FAILED and backs the source off (30 s doubling to 30 min);
 *   bad credentials and other permanent refusals block scheduled syncs until the
 *   source is changed, so they never become a retry storm.
 */
import { randomUUID } from 'node:crypto';
import { asConnectorFailure, ConnectorFailure } from '../../../lib/connectors/failures.js';
import type { Logger } from '../../../lib/logger.js';
import { IngestionError, type IngestionClient } from '../imports/ingestionClient.js';
import { createRowMapper, findMapping, resolveColumns, RowError } from '../imports/mappings/index.js';
import { BatchKeys } from '../imports/recordKeys.js';
import { sendRows, type PendingRow } from '../imports/runImport.js';
import type { SourceConnector, SourcePage } from './connectors/sourceConnector.js';
import type { PageCommit, RejectedRow, SourceRunsRepository, SyncRunRecord } from './sourceRuns.repository.js';
import type { SourceRecord, SourcesRepository, SyncMode } from './sources.repository.js';

/** Longer than any page takes to read and write; renewed at every commit. */
export const LEASE_MS = 2 * 60_000;
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 30 * 60_000;

export interface SyncDeps {
  sources: SourcesRepository;
  runs: SourceRunsRepository;
  client: IngestionClient;
  /** The connector for this source (its credentials opened); throws a ConnectorFailure when it cannot be made. */
  connectorFor: (source: SourceRecord) => Promise<SourceConnector>;
  logger: Logger;
  now: () => Date;
  runIds: () => string;
  /** Who holds the lease; one per job run. @default a random id */
  holder?: string;
}

export type SyncOutcome =
  | { kind: 'ran'; run: SyncRunRecord | null }
  | { kind: 'busy' }
  | { kind: 'missing' };

/** How long scheduled syncs wait after the n-th failure in a row (a permanent refusal waits for a change to the source instead). */
export function backoffMs(consecutiveFailures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, consecutiveFailures - 1));
}

export async function runSync(sourceId: string, mode: SyncMode, deps: SyncDeps): Promise<SyncOutcome> {
  const holder = deps.holder ?? randomUUID();
  const source = await deps.sources.findById(sourceId);
  if (!source) return { kind: 'missing' };
  if (!(await deps.sources.acquireLease(sourceId, holder, deps.now(), leaseEnd(deps)))) return { kind: 'busy' };
  const logger = deps.logger.child({ sourceId });
  let run: SyncRunRecord | undefined;
  try {
    const resumed = await deps.runs.findRunning(sourceId);
    run =
      resumed ??
      (await deps.runs.start({ id: deps.runIds(), sourceId, mode: mode === 'FULL' || !source.cursor ? 'FULL' : 'INCREMENTAL', cursor: mode === 'FULL' ? null : source.cursor }, deps.now()));
    await deps.sources.recordRunStart(sourceId, run.id);
    if (resumed) logger.info({ runId: run.id, mode: run.mode }, 'Resuming a sync from its committed cursor');
    const connector = await deps.connectorFor(source);
    const runId = run.id;
    const pipeline = new PagePipeline(async (commit) => {
      if (!(await deps.runs.commitPage(runId, commit, deps.now()))) throw new LeaseLost('the run was finished elsewhere');
      if (!(await deps.sources.commitCursor(sourceId, holder, commit.cursor, leaseEnd(deps)))) throw new LeaseLost('another worker took the lease');
    });
    try {
      for await (const page of readAhead(connector.pages(run.mode, run.cursor))) await pipeline.send(preparePage(page, connector), deps.client);
      await pipeline.drain();
    } catch (error) {
      // No page may still be writing once the run is reported failed.
      await pipeline.settle();
      throw error;
    }
    const done = await deps.runs.finish(run.id, 'SUCCEEDED', null, deps.now());
    await deps.sources.recordSuccess(sourceId, deps.now());
    logger.info({ runId: run.id, rowsRead: done?.rowsRead, rowsWritten: done?.rowsWritten, rowsRejected: done?.rowsRejected }, 'Source synced');
    return { kind: 'ran', run: done };
  } catch (error) {
    // A lost database connection or a lost lease leaves the run RUNNING for the next sync to resume.
    if (!(error instanceof ConnectorFailure) && !(error instanceof IngestionError)) throw error;
    const failure = error instanceof IngestionError ? new ConnectorFailure('INGESTION_FAILED', error.message, true) : asConnectorFailure(error);
    const fresh = await deps.sources.findById(sourceId);
    const attempts = (fresh?.consecutiveFailures ?? 0) + 1;
    const nextAttemptAt = failure.retryable ? new Date(deps.now().getTime() + Math.max(backoffMs(attempts), failure.retryAfterMs ?? 0)) : null;
    await deps.sources.recordFailure(sourceId, { code: failure.code, message: failure.message, at: deps.now(), retryable: failure.retryable }, nextAttemptAt);
    const failed = run ? await deps.runs.finish(run.id, 'FAILED', { code: failure.code, message: failure.message }, deps.now()) : null;
    logger.warn({ runId: run?.id, code: failure.code, retryable: failure.retryable, nextAttemptAt }, 'Source sync failed');
    return { kind: 'ran', run: failed };
  } finally {
    await deps.sources.releaseLease(sourceId, holder).catch(() => undefined);
  }
}

/** The worker lost the source to another (its lease ran out): it stops without touching the run. */
class LeaseLost extends Error {
  override name = 'LeaseLost';
}

function leaseEnd(deps: SyncDeps): Date {
  return new Date(deps.now().getTime() + LEASE_MS);
}

/** Pages written at once; their commits still go strictly in page order. */
export const PAGES_IN_FLIGHT = 3;

interface PreparedPage {
  page: SourcePage;
  pending: PendingRow[];
  rejected: RejectedRow[];
  /** Each row's record id, by its index in the page. */
  ids: string[];
  keys: BatchKeys;
}

/** Maps a page with the import mapping of its entity; rows the mapping rejects keep their reasons. */
function preparePage(page: SourcePage, connector: SourceConnector): PreparedPage {
  const rejected: RejectedRow[] = [];
  const pending: PendingRow[] = [];
  const ids: string[] = [];
  const keys = new BatchKeys();
  if (page.rows.length > 0) {
    const mapping = findMapping(connector.mappingSource, page.entity);
    const mapRow = createRowMapper(mapping, resolveColumns(mapping, Object.keys(page.rows[0]!)), connector.context);
    const idField = Object.values(mapping.fields).find((spec) => spec.required)!;
    const idColumns = typeof idField.column === 'string' ? [idField.column] : idField.column;
    for (const [index, row] of page.rows.entries()) {
      const recordId = idColumns.map((column) => row[column]).find(Boolean) ?? `row ${index + 1}`;
      ids.push(recordId);
      try {
        const records = mapRow(row);
        pending.push({ line: index, records });
        for (const record of [records.main, ...records.related]) keys.add(record);
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        rejected.push({ entity: page.entity, recordId, code: error.code, reason: error.message });
      }
    }
  }
  return { page, pending, rejected, ids, keys };
}

/** Writes a prepared page; the commit of its counts, rejections and cursor. */
async function writePage({ page, pending, rejected: mapped, ids }: PreparedPage, client: IngestionClient): Promise<PageCommit> {
  const rejected = [...mapped];
  for (const error of await sendRows(pending, client)) rejected.push({ entity: page.entity, recordId: ids[error.line]!, code: error.code, reason: error.reason });
  return {
    entity: page.entity,
    read: page.rows.length + (page.deletedIds?.length ?? 0),
    written: page.rows.length - rejected.length,
    rejected,
    deleted: page.deletedIds?.length ?? 0,
    cursor: page.cursor,
  };
}

/**
 * Up to PAGES_IN_FLIGHT pages written at once while the source is read on, each
 * committed as soon as it and every page before it are written, so the committed
 * cursor only ever covers a prefix of written pages. A page that touches a key
 * (a person, an account) a page in flight touches waits for it, so records that
 * refer to each other are written in the source's order (as the file import does).
 */
class PagePipeline {
  private readonly inFlight: Array<{ keys: BatchKeys; committed: Promise<void> }> = [];
  private lastCommit: Promise<void> = Promise.resolve();

  constructor(private readonly commit: (commit: PageCommit) => Promise<void>) {}

  async send(prepared: PreparedPage, client: IngestionClient): Promise<void> {
    while (this.inFlight.length >= PAGES_IN_FLIGHT || this.inFlight.some((entry) => entry.keys.conflictsWith(prepared.keys))) await this.retireOldest();
    const written = writePage(prepared, client);
    written.catch(() => undefined);
    const committed = this.lastCommit.then(() => written).then((commit) => this.commit(commit));
    committed.catch(() => undefined);
    this.lastCommit = committed;
    this.inFlight.push({ keys: prepared.keys, committed });
  }

  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.retireOldest();
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight.map((entry) => entry.committed));
  }

  private async retireOldest(): Promise<void> {
    await this.inFlight[0]!.committed;
    this.inFlight.shift();
  }
}

/** Reads the next page while the current one is written: the source and the subgraphs work at once. */
async function* readAhead<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  // A failure of the page read ahead surfaces when it is reached, not while the current page is written.
  next.catch(() => undefined);
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = iterator.next();
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}
