/**
 * The Salesforce source: full loads with Bulk API 2.0 query jobs (one per
 * object, results read 1,000 records at a time by locator), increments with the
 * REST `query` resource, paged by `nextRecordsUrl`, ordered by SystemModstamp and
 * Id so the cursor (the last record's pair) is exact at any page boundary, and
 * deleted records from `sobjects/<object>/deleted`. Objects are read in the order
 * their references need: Account, Contact, Lead, Opportunity, OpportunityContactRole.
 *
 * Cursor: `{ full?: { object, jobId?, locator? }, since: { <object>: { modstamp, id } },
 * deletedSince: { <object>: date } }`; a full load sets `since` to its start.
 */
import { ConnectorFailure } from '../../../../../lib/connectors/failures.js';
import { isRecord } from '../../../../../lib/connectors/http.js';
import { readCsv } from '../../../imports/index.js';
import type { MappingContext } from '../../../imports/mappings/mapping.js';
import type { SourceCursor, SyncMode } from '../../sources.repository.js';
import { cell, PAGE_ROWS, pollUntil, type SourceConnector, type SourceConnectorDeps, type SourcePage, type SourceRow } from '../sourceConnector.js';
import type { SalesforceClient } from './salesforceClient.js';

/** The fields read per object: the columns the import mappings read. */
export const OBJECT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Account: ['Id', 'Name', 'Website', 'Industry', 'AnnualRevenue', 'NumberOfEmployees', 'BillingCountry', 'Type', 'ParentId', 'LastModifiedDate'],
  Contact: ['Id', 'AccountId', 'Email', 'FirstName', 'LastName', 'Title', 'Phone', 'MailingCountry', 'HasOptedOutOfEmail', 'LastModifiedDate'],
  Lead: ['Id', 'Email', 'FirstName', 'LastName', 'Title', 'Phone', 'Country', 'Status', 'Company', 'HasOptedOutOfEmail', 'ConvertedContactId', 'LastModifiedDate'],
  Opportunity: ['Id', 'AccountId', 'Name', 'StageName', 'Amount', 'CloseDate', 'IsClosed', 'IsWon', 'LastModifiedDate'],
  OpportunityContactRole: ['Id', 'OpportunityId', 'ContactId', 'Role', 'IsPrimary'],
};
export const OBJECTS = Object.keys(OBJECT_FIELDS);
/** Salesforce answers deleted records for a range of at least a minute. */
const MIN_DELETED_RANGE_MS = 60_000;

interface Position {
  modstamp: string;
  id: string;
}

interface SalesforceCursor {
  full?: { object: string; jobId?: string; locator?: string };
  since: Record<string, Position>;
  deletedSince: Record<string, string>;
}

export class SalesforceSource implements SourceConnector {
  readonly mappingSource = 'salesforce' as const;
  readonly context: MappingContext;

  constructor(
    private readonly client: SalesforceClient,
    config: { orgId: string },
    private readonly deps: SourceConnectorDeps,
  ) {
    this.context = { instance: config.orgId };
  }

  async testConnection(): Promise<void> {
    await this.client.token();
  }

  async *pages(_mode: SyncMode, stored: SourceCursor | null): AsyncIterable<SourcePage> {
    let cursor = stored as SalesforceCursor | null;
    if (!cursor) {
      const at = this.deps.now().toISOString();
      cursor = {
        full: { object: OBJECTS[0]! },
        since: Object.fromEntries(OBJECTS.map((object) => [object, { modstamp: at, id: '' }])),
        deletedSince: Object.fromEntries(OBJECTS.map((object) => [object, at])),
      };
    }
    if (cursor.full) {
      yield* this.fullLoad(cursor);
      return;
    }
    yield* this.increments(cursor);
  }

  private async *fullLoad(start: SalesforceCursor): AsyncIterable<SourcePage> {
    const { since, deletedSince } = start;
    let full = start.full;
    while (full) {
      const { object } = full;
      const jobId = full.jobId ?? (await this.startQueryJob(object));
      if (!full.jobId) await this.waitForJob(jobId);
      const following = OBJECTS[OBJECTS.indexOf(object) + 1];
      let locator = full.locator;
      for (;;) {
        const { text, headers } = await this.client.text(this.client.dataPath(`/jobs/query/${jobId}/results`), {
          maxRecords: String(this.deps.pageRows ?? PAGE_ROWS),
          ...(locator ? { locator } : {}),
        });
        const rows: SourceRow[] = [];
        for await (const item of readCsv([text])) if (item.kind === 'row') rows.push(item.values);
        const next = headers.get('sforce-locator');
        const done = !next || next === 'null';
        const after = done ? (following ? { object: following } : undefined) : { object, jobId, locator: next };
        yield { entity: object, rows, cursor: cursorOf({ full: after, since, deletedSince }) };
        if (done) break;
        locator = next;
      }
      full = following ? { object: following } : undefined;
    }
  }

  private async startQueryJob(object: string): Promise<string> {
    const body = await this.client.json('POST', this.client.dataPath('/jobs/query'), {
      body: { operation: 'query', query: `SELECT ${OBJECT_FIELDS[object]!.join(', ')} FROM ${object}`, contentType: 'CSV' },
    });
    if (isRecord(body) && typeof body.id === 'string') return body.id;
    throw new ConnectorFailure('SALESFORCE_BAD_RESPONSE', 'Salesforce created a query job without answering its id', true);
  }

  private async waitForJob(jobId: string): Promise<void> {
    await pollUntil(async () => {
      const body = await this.client.json('GET', this.client.dataPath(`/jobs/query/${jobId}`));
      const state = isRecord(body) ? body.state : undefined;
      if (state === 'Failed' || state === 'Aborted') {
        const reason = isRecord(body) && typeof body.errorMessage === 'string' ? `: ${body.errorMessage}` : '';
        throw new ConnectorFailure('SALESFORCE_QUERY_JOB_FAILED', `Bulk query job ${jobId} ended ${String(state)}${reason}`, true);
      }
      return state === 'JobComplete';
    }, this.deps);
  }

  private async *increments(start: SalesforceCursor): AsyncIterable<SourcePage> {
    const since = { ...start.since };
    const deletedSince = { ...start.deletedSince };
    for (const object of OBJECTS) {
      const position = since[object] ?? { modstamp: new Date(0).toISOString(), id: '' };
      const fields = [...OBJECT_FIELDS[object]!, 'SystemModstamp'];
      const soql =
        `SELECT ${fields.join(', ')} FROM ${object} ` +
        `WHERE SystemModstamp > ${position.modstamp} OR (SystemModstamp = ${position.modstamp} AND Id > '${position.id}') ` +
        'ORDER BY SystemModstamp ASC, Id ASC';
      let body = await this.client.json('GET', this.client.dataPath('/query'), { query: { q: soql } });
      for (;;) {
        const records = isRecord(body) && Array.isArray(body.records) ? body.records.filter(isRecord) : [];
        const last = records.at(-1);
        if (last) since[object] = { modstamp: salesforceDate(last.SystemModstamp), id: String(last.Id) };
        const rows = records.map((record) => Object.fromEntries(OBJECT_FIELDS[object]!.map((field) => [field, cell(record[field])])));
        yield { entity: object, rows, cursor: cursorOf({ since: { ...since }, deletedSince: { ...deletedSince } }) };
        const nextUrl = isRecord(body) && body.done !== true && typeof body.nextRecordsUrl === 'string' ? body.nextRecordsUrl : undefined;
        if (!nextUrl) break;
        body = await this.client.json('GET', nextUrl);
      }
    }
    const now = this.deps.now();
    for (const object of OBJECTS) {
      const from = deletedSince[object] ?? now.toISOString();
      if (now.getTime() - new Date(from).getTime() < MIN_DELETED_RANGE_MS) continue;
      const body = await this.client.json('GET', this.client.dataPath(`/sobjects/${object}/deleted/`), { query: { start: from, end: now.toISOString() } });
      const deleted = isRecord(body) && Array.isArray(body.deletedRecords) ? body.deletedRecords.filter(isRecord) : [];
      deletedSince[object] = isRecord(body) && typeof body.latestDateCovered === 'string' ? salesforceDate(body.latestDateCovered) : now.toISOString();
      yield { entity: object, rows: [], deletedIds: deleted.map((record) => String(record.id)), cursor: cursorOf({ since: { ...since }, deletedSince: { ...deletedSince } }) };
    }
  }
}

/** Salesforce writes `2026-01-12T08:00:00.000+0000`; SOQL and the cursor use ISO-8601 in UTC. */
function salesforceDate(value: unknown): string {
  const text = String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new ConnectorFailure('SALESFORCE_BAD_RESPONSE', `Salesforce answered a date that is not one: ${String(value)}`, true);
  return date.toISOString();
}

function cursorOf(cursor: SalesforceCursor): SourceCursor {
  const { full, ...rest } = cursor;
  return (full ? { full: Object.fromEntries(Object.entries(full).filter(([, v]) => v !== undefined)), ...rest } : rest) as unknown as SourceCursor;
}
