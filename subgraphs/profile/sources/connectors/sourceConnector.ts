/**
 * What every source connector does: check its credentials, and read the source
 * as pages of export-shaped rows (the column names of the system's own exports,
 * so the import mappings read them), each page carrying the cursor to resume
 * after it. The sync engine writes a page, then commits its cursor: a sync
 * killed between pages resumes after the last committed one.
 */
import type { AddressPolicy, Lookup } from '../../../../lib/connectors/addressPolicy.js';
import type { MarketoClientDeps } from '../../../../lib/marketo/marketoClient.js';
import type { SourceName } from '../../imports/index.js';
import type { MappingContext } from '../../imports/mappings/mapping.js';
import type { SourceCursor, SyncMode } from '../sources.repository.js';

export type SourceRow = Readonly<Record<string, string>>;

export interface SourcePage {
  /** The import mapping's entity: `leads`, `activities`, `Account`, `Contact`, ... */
  entity: string;
  rows: readonly SourceRow[];
  /** Ids of records the source reports deleted in this page. */
  deletedIds?: readonly string[];
  /** Where the next sync starts once this page is written. */
  cursor: SourceCursor;
}

export interface SourceConnector {
  /** The mappings' source name. */
  readonly mappingSource: SourceName;
  readonly context: MappingContext;
  /** Authenticates; reads and writes nothing. Throws a ConnectorFailure when it cannot. */
  testConnection(): Promise<void>;
  /**
   * Pages from `cursor`. Without one (a new source, or a FULL sync, which the
   * engine starts from null) the connector reads everything with its bulk API and
   * leaves a cursor for increments from the moment it began; a cursor taken
   * midway through such a load resumes it, whatever the mode.
   */
  pages(mode: SyncMode, cursor: SourceCursor | null): AsyncIterable<SourcePage>;
}

/** The Marketo client's deps plus where the source may be reached and how long to wait between looks at a bulk job. */
export interface SourceConnectorDeps extends MarketoClientDeps {
  /** Which addresses every request may go to (config.security.allowPrivateDestinations). @default UNCONFIGURED_ADDRESS_POLICY */
  addressPolicy?: AddressPolicy;
  /** How hosts are resolved for the address policy. @default systemLookup */
  lookup?: Lookup;
  /** First wait between status checks of a bulk export or query job, doubled up to 30 s. @default 1 000 */
  bulkPollMs?: number;
  /** Rows per page of a bulk file. @default PAGE_ROWS */
  pageRows?: number;
}

/** Rows per page the engine writes at once (one ingestion batch). */
export const PAGE_ROWS = 1000;

/** A JSON value as an export cell: null and undefined empty, objects as JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Waits for a bulk job: `look` answers true when done; waits grow from `firstMs` to 30 s. */
export async function pollUntil(look: () => Promise<boolean>, deps: SourceConnectorDeps): Promise<void> {
  let wait = deps.bulkPollMs ?? 1000;
  while (!(await look())) {
    await deps.sleep(wait);
    wait = Math.min(wait * 2, 30_000);
  }
}
