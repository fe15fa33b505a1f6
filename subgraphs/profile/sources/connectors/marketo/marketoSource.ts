/**
 * The Marketo source: full loads with the Bulk Extract API (leads, then
 * activities, in createdAt ranges of at most 31 days), increments with paging
 * tokens over lead changes (the changed leads are then read whole, 300 at a
 * time), activities of the types we map, and deleted leads. Before each page of
 * leads comes a page of the companies its leads name (externalCompanyId) not yet
 * read in this sync (companies.ts), so a lead's link finds its company's account;
 * Marketo has no change feed for companies, so a company is read again when one
 * of its leads changes, and by every full load. Every call goes
 * through the Marketo client, inside the instance's shared call budget and with
 * the process's token cache, exactly as a Marketo destination's calls do.
 *
 * Cursor: `{ full?: { entity, windowStart, until, exportId?, rowsDone }, tokens }`.
 * `tokens` are taken when a full load begins, so what changes during it is read
 * by the next increment.
 */
import { ConnectorFailure } from '../../../../../lib/connectors/failures.js';
import { isRecord } from '../../../../../lib/connectors/http.js';
import type { MarketoClient } from '../../../../../lib/marketo/marketoClient.js';
import { readCsv } from '../../../imports/index.js';
import { ACTIVITY_TYPES } from '../../../imports/mappings/marketo.js';
import type { MappingContext } from '../../../imports/mappings/mapping.js';
import type { SourceCursor, SyncMode } from '../../sources.repository.js';
import { cell, PAGE_ROWS, type SourceConnector, type SourceConnectorDeps, type SourcePage, type SourceRow } from '../sourceConnector.js';
import { BulkExtract, MAX_EXPORT_DAYS, type ExportKind } from './bulkExtract.js';
import { MarketoCompanies } from './companies.js';

export interface MarketoSourceConfig {
  instanceId: string;
  /** The Salesforce org Marketo syncs with: sfdc* ids join that org's records. */
  crmInstance?: string;
  /** Where full loads start (createdAt); a year back by default. */
  backfillFrom?: Date;
}

/** The lead fields read, named as Marketo names them (and as the leads mapping reads them). */
export const LEAD_FIELDS = [
  'id', 'email', 'firstName', 'lastName', 'title', 'company', 'phone', 'country', 'leadScore', 'leadStatus',
  'unsubscribed', 'sfdcLeadId', 'sfdcContactId', 'sfdcAccountId', 'externalCompanyId', 'updatedAt',
] as const;
/** Marketo takes at most 10 activity type ids per activities.json call, so the mapped types are read in groups. */
const ACTIVITY_TYPE_GROUPS: readonly number[][] = chunk(Object.keys(ACTIVITY_TYPES).map(Number), 10);
/** Ids per leads.json read (Marketo's limit). */
const LEADS_PER_READ = 300;
const DAY_MS = 86_400_000;

interface FullCursor {
  entity: ExportKind;
  /** Where the load began (createdAt): activities start from here again after leads. */
  from: string;
  windowStart: string;
  until: string;
  exportId?: string;
  rowsDone: number;
}

interface Tokens {
  leadChanges: string;
  deletedLeads: string;
  activities: string[];
}

interface MarketoCursor {
  full?: FullCursor;
  tokens: Tokens;
}

export class MarketoSource implements SourceConnector {
  readonly mappingSource = 'marketo' as const;
  readonly context: MappingContext;
  private readonly bulk: BulkExtract;
  private readonly companies: MarketoCompanies;

  constructor(
    private readonly client: MarketoClient,
    private readonly config: MarketoSourceConfig,
    private readonly deps: SourceConnectorDeps,
  ) {
    this.context = { instance: config.instanceId, ...(config.crmInstance ? { crmInstance: config.crmInstance } : {}) };
    this.bulk = new BulkExtract(client, deps);
    this.companies = new MarketoCompanies(client);
  }

  async testConnection(): Promise<void> {
    await this.client.token();
  }

  async *pages(_mode: SyncMode, stored: SourceCursor | null): AsyncIterable<SourcePage> {
    const cursor = (stored as MarketoCursor | null) ?? (await this.beginFull());
    const companiesRead = new Set<string>();
    if (cursor.full) {
      yield* this.fullLoad(cursor.full, cursor.tokens, companiesRead);
      return;
    }
    yield* this.increments(cursor.tokens, companiesRead);
  }

  /**
   * A page of leads, after a page of the companies they name that this sync has not
   * read yet. The companies page carries the cursor from before the leads, so a sync
   * killed between the two reads both again.
   */
  private async *leadsWithCompanies(page: SourcePage, before: SourceCursor, companiesRead: Set<string>): AsyncIterable<SourcePage> {
    const named = new Set(page.rows.map((row) => row.externalCompanyId).filter((id): id is string => Boolean(id) && !companiesRead.has(id!)));
    if (named.size > 0) {
      const rows = await this.companies.read([...named]);
      for (const id of named) companiesRead.add(id);
      yield { entity: 'companies', rows, cursor: before };
    }
    yield page;
  }

  private async beginFull(): Promise<MarketoCursor> {
    const until = this.deps.now();
    const from = this.config.backfillFrom ?? new Date(until.getTime() - 365 * DAY_MS);
    const since = until.toISOString();
    const tokens: Tokens = {
      leadChanges: await this.pagingToken(since),
      deletedLeads: await this.pagingToken(since),
      activities: await Promise.all(ACTIVITY_TYPE_GROUPS.map(() => this.pagingToken(since))),
    };
    return { full: { entity: 'leads', from: from.toISOString(), windowStart: from.toISOString(), until: since, rowsDone: 0 }, tokens };
  }

  private async pagingToken(sinceDatetime: string): Promise<string> {
    const answer = await this.client.call({ method: 'GET', path: '/v1/activities/pagingtoken.json', query: { sinceDatetime } });
    if (!answer.nextPageToken) throw new ConnectorFailure('MARKETO_BAD_RESPONSE', 'Marketo answered pagingtoken.json without nextPageToken', true);
    return answer.nextPageToken;
  }

  /** Leads, then activities, window after window; each page's cursor names the export and the rows done in it. */
  private async *fullLoad(start: FullCursor, tokens: Tokens, companiesRead: Set<string>): AsyncIterable<SourcePage> {
    let full: FullCursor | undefined = start;
    while (full) {
      const windowStart: Date = new Date(full.windowStart);
      const until: Date = new Date(full.until);
      const windowEnd: Date = new Date(Math.min(windowStart.getTime() + MAX_EXPORT_DAYS * DAY_MS, until.getTime()));
      const exportId =
        full.exportId ??
        (await this.bulk.start({
          kind: full.entity,
          startAt: windowStart,
          endAt: windowEnd,
          ...(full.entity === 'leads' ? { fields: LEAD_FIELDS } : { activityTypeIds: ACTIVITY_TYPE_GROUPS.flat() }),
        }));
      const text = await this.bulk.file(full.entity, exportId);
      const next: FullCursor | undefined =
        windowEnd < until
          ? { entity: full.entity, from: full.from, windowStart: windowEnd.toISOString(), until: full.until, rowsDone: 0 }
          : full.entity === 'leads'
            ? { entity: 'activities', from: full.from, windowStart: full.from, until: full.until, rowsDone: 0 }
            : undefined;
      let rows: SourceRow[] = [];
      let done = 0;
      const current = { ...full, exportId };
      for await (const item of readCsv([text])) {
        if (item.kind !== 'row') continue;
        done++;
        if (done <= full.rowsDone) continue;
        rows.push(item.values);
        if (rows.length >= (this.deps.pageRows ?? PAGE_ROWS)) {
          const page = { entity: full.entity, rows, cursor: cursorOf({ ...current, rowsDone: done }, tokens) };
          yield* this.withCompanies(page, cursorOf({ ...current, rowsDone: done - rows.length }, tokens), companiesRead);
          rows = [];
        }
      }
      // The window's last page (possibly empty) moves the cursor to the next window.
      yield* this.withCompanies({ entity: full.entity, rows, cursor: cursorOf(next, tokens) }, cursorOf({ ...current, rowsDone: done - rows.length }, tokens), companiesRead);
      full = next;
    }
  }

  /** Leads pages come after their companies; other pages as they are. */
  private withCompanies(page: SourcePage, before: SourceCursor, companiesRead: Set<string>): AsyncIterable<SourcePage> {
    return page.entity === 'leads' ? this.leadsWithCompanies(page, before, companiesRead) : single(page);
  }

  private async *increments(start: Tokens, companiesRead: Set<string>): AsyncIterable<SourcePage> {
    const tokens: Tokens = { ...start, activities: [...start.activities] };
    // Lead changes first, so an activity's lead exists by the time its event is written.
    for (;;) {
      const page = await this.client.call({
        method: 'GET',
        path: '/v1/activities/leadchanges.json',
        query: { nextPageToken: tokens.leadChanges, fields: LEAD_FIELDS.join(','), batchSize: '300' },
      });
      const leadIds = [...new Set(page.result.filter(isRecord).map((change) => String(change.leadId)))];
      const before: SourceCursor = { tokens: { ...tokens, activities: [...tokens.activities] } };
      tokens.leadChanges = page.nextPageToken ?? tokens.leadChanges;
      const rows: SourceRow[] = [];
      for (const ids of chunk(leadIds, LEADS_PER_READ)) rows.push(...(await this.readLeads(ids)));
      yield* this.leadsWithCompanies({ entity: 'leads', rows, cursor: { tokens: { ...tokens, activities: [...tokens.activities] } } }, before, companiesRead);
      if (!page.moreResult) break;
    }
    for (const [group, typeIds] of ACTIVITY_TYPE_GROUPS.entries()) {
      for (;;) {
        const page = await this.client.call({
          method: 'GET',
          path: '/v1/activities.json',
          query: { nextPageToken: tokens.activities[group]!, activityTypeIds: typeIds.join(','), batchSize: '300' },
        });
        tokens.activities[group] = page.nextPageToken ?? tokens.activities[group]!;
        yield { entity: 'activities', rows: page.result.filter(isRecord).map(activityRow), cursor: { tokens: { ...tokens, activities: [...tokens.activities] } } };
        if (!page.moreResult) break;
      }
    }
    for (;;) {
      const page = await this.client.call({ method: 'GET', path: '/v1/activities/deletedleads.json', query: { nextPageToken: tokens.deletedLeads, batchSize: '300' } });
      tokens.deletedLeads = page.nextPageToken ?? tokens.deletedLeads;
      const deletedIds = page.result.filter(isRecord).map((item) => String(item.leadId));
      yield { entity: 'leads', rows: [], deletedIds, cursor: { tokens: { ...tokens, activities: [...tokens.activities] } } };
      if (!page.moreResult) break;
    }
  }

  /** The leads' current values (a lead deleted since its change is simply not answered). */
  private async readLeads(ids: readonly string[]): Promise<SourceRow[]> {
    const answer = await this.client.call({
      method: 'POST',
      path: '/v1/leads.json',
      query: { _method: 'GET' },
      form: { filterType: 'id', filterValues: ids.join(','), fields: LEAD_FIELDS.join(',') },
    });
    return answer.result.filter(isRecord).map((lead) => Object.fromEntries(LEAD_FIELDS.map((field) => [field, cell(lead[field])])));
  }
}

function cursorOf(full: FullCursor | undefined, tokens: Tokens): SourceCursor {
  return (full ? { full: stripUndefined(full), tokens } : { tokens }) as unknown as SourceCursor;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** An activities.json record as a row of the activities export: attributes as one JSON object. */
function activityRow(activity: Record<string, unknown>): SourceRow {
  const attributes = Array.isArray(activity.attributes)
    ? Object.fromEntries(activity.attributes.filter(isRecord).map((attribute) => [String(attribute.name), attribute.value ?? null]))
    : undefined;
  return {
    marketoGUID: cell(activity.marketoGUID ?? activity.id),
    leadId: cell(activity.leadId),
    activityDate: cell(activity.activityDate),
    activityTypeId: cell(activity.activityTypeId),
    campaignId: cell(activity.campaignId),
    primaryAttributeValue: cell(activity.primaryAttributeValue),
    attributes: attributes && Object.keys(attributes).length > 0 ? JSON.stringify(attributes) : '',
  };
}

async function* single<T>(item: T): AsyncIterable<T> {
  yield item;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
