/**
 * A Marketo Engage instance as a source, holding our connector to the contract
 * the real one enforces: Marketo's access rules (marketoAccess.ts: tokens that
 * expire, 601/602, 606 beyond `callsPerWindow` calls in any 20 s and 615 beyond
 * 10 in flight, bulk calls included, `success: false` for call-level errors);
 * Bulk Extract jobs (create, enqueue, status, file) with createdAt ranges
 * of at most 31 days (1003), at most 2 processing at once and 10 queued (1029);
 * paging tokens over the activity log for leadchanges.json (New Lead and Change
 * Data Value), activities.json (at most 10 type ids) and deletedleads.json; and
 * leads.json reads by id, at most 300; and the Company API: describe.json, and
 * companies.json queried by one of its searchable fields (externalCompanyId, id,
 * company) with filterValues required and at most 300 of them (1003), known fields
 * only (1006), batchSize at most 300 and nextPageToken paging. Leads, changes,
 * companies and activities are generated with the export-file factories
 * (lib/fixtures), so they have the real shape.
 */
import { marketoActivity, marketoCompany, marketoLead, csvText } from '../../lib/fixtures/exportFiles.js';
import { isObject, parseJson, type MockReply, type MockRequest } from './httpServer.js';
import { marketoAccess, marketoFail as fail, marketoOk as ok, startMarketoServer, type MarketoAccessOptions } from './marketoAccess.js';

export type MarketoSourceMockOptions = MarketoAccessOptions;

type Lead = Record<string, string | number | boolean | null> & { id: number; createdAt: string; updatedAt: string };
type Company = Record<string, string | number | null> & { id: number; externalCompanyId: string; createdAt: string; updatedAt: string };

/** The Company object's fields as describe.json answers them (Marketo's standard company fields). */
const COMPANY_FIELDS: ReadonlyArray<{ name: string; dataType: string }> = [
  { name: 'id', dataType: 'integer' },
  { name: 'externalCompanyId', dataType: 'string' },
  { name: 'company', dataType: 'string' },
  { name: 'website', dataType: 'url' },
  { name: 'industry', dataType: 'string' },
  { name: 'annualRevenue', dataType: 'currency' },
  { name: 'numberOfEmployees', dataType: 'integer' },
  { name: 'billingCountry', dataType: 'string' },
  { name: 'createdAt', dataType: 'datetime' },
  { name: 'updatedAt', dataType: 'datetime' },
];
const COMPANY_SEARCHABLE = ['externalCompanyId', 'id', 'company'];

interface Activity {
  /** Position in the log; paging tokens point into it. */
  seq: number;
  id: number;
  marketoGUID: string;
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  campaignId: number | null;
  primaryAttributeValue: string | null;
  attributes: Array<{ name: string; value: unknown }>;
  fields?: Array<{ id: number; name: string; newValue: unknown; oldValue: unknown }>;
}

interface ExportJob {
  exportId: string;
  kind: 'leads' | 'activities';
  status: 'Created' | 'Queued' | 'Processing' | 'Completed' | 'Failed';
  fields: string[];
  startAt: number;
  endAt: number;
  activityTypeIds: number[] | null;
  file?: string;
}

export const NEW_LEAD = 12;
export const CHANGE_DATA_VALUE = 13;
export const DELETE_LEAD = 37;
const MAX_RANGE_MS = 31 * 86_400_000;
const MAX_PROCESSING = 2;
const MAX_QUEUED = 10;
const MAX_BATCH = 300;
const ACTIVITY_COLUMNS = ['marketoGUID', 'leadId', 'activityDate', 'activityTypeId', 'campaignId', 'primaryAttributeValueId', 'primaryAttributeValue', 'attributes'];

export async function startMarketoSourceMock(options: MarketoSourceMockOptions = {}) {
  let nextLeadId = 1000;
  let nextActivityId = 1;
  let nextExportId = 1;
  let nextCompanyId = 1;

  const state = {
    leads: new Map<number, Lead>(),
    companies: new Map<string, Company>(),
    log: [] as Activity[],
    exports: new Map<string, ExportJob>(),
    calls: [] as Array<{ method: string; path: string; query: Record<string, string>; errorCode?: string }>,
    refused: { rate: 0, concurrency: 0, auth: 0, exportLimit: 0, range: 0, batch: 0 },
    tokensIssued: 0,
    maxConcurrentSeen: 0,
    maxExportsProcessing: 0,
    maxExportsQueued: 0,
    get maxCallsInWindow() {
      return access.maxCallsInWindow;
    },
  };
  const access = marketoAccess(state, options, { clientId: 'source-client', clientSecret: 'source-secret' });
  const { now } = access;
  const iso = (ms: number) => new Date(ms).toISOString();

  function log(entry: Omit<Activity, 'seq' | 'id' | 'marketoGUID'> & { marketoGUID?: string }): void {
    const id = nextActivityId++;
    state.log.push({ ...entry, seq: state.log.length, id, marketoGUID: entry.marketoGUID ?? String(500_000 + id) });
  }

  /** Where a paging token points in the log. */
  const position = (pageToken: string | null): number | undefined => {
    const match = /^mock:(\d+)$/.exec(Buffer.from(pageToken ?? '', 'base64url').toString());
    return match ? Number(match[1]) : undefined;
  };
  const pagingToken = (seq: number) => Buffer.from(`mock:${seq}`).toString('base64url');

  /** Log entries from the token on that `matches`, up to the batch size; the token after the last one looked at. */
  function readLog(params: URLSearchParams, matches: (activity: Activity) => boolean, shape: (activity: Activity) => unknown): MockReply {
    const start = position(params.get('nextPageToken'));
    if (start === undefined) return fail('1003', 'Invalid paging token');
    const size = Math.min(Number(params.get('batchSize') ?? MAX_BATCH), MAX_BATCH);
    const found: unknown[] = [];
    let seq = start;
    for (; seq < state.log.length && found.length < size; seq++) if (matches(state.log[seq]!)) found.push(shape(state.log[seq]!));
    const more = state.log.slice(seq).some(matches);
    return ok(found, { nextPageToken: pagingToken(seq), moreResult: more });
  }

  const restActivity = (a: Activity) => ({
    id: a.id,
    marketoGUID: a.marketoGUID,
    leadId: a.leadId,
    activityDate: a.activityDate,
    activityTypeId: a.activityTypeId,
    campaignId: a.campaignId,
    primaryAttributeValueId: null,
    primaryAttributeValue: a.primaryAttributeValue,
    attributes: a.attributes,
  });

  function route(request: MockRequest, path: string): MockReply {
    const params = request.url.searchParams;
    const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(request.body) : undefined;
    if (path === '/rest/v1/activities/pagingtoken.json') {
      const since = Date.parse(params.get('sinceDatetime') ?? '');
      if (Number.isNaN(since)) return fail('1003', 'sinceDatetime is required');
      const seq = state.log.findIndex((a) => Date.parse(a.activityDate) >= since);
      return ok([], { nextPageToken: pagingToken(seq === -1 ? state.log.length : seq) });
    }
    if (path === '/rest/v1/activities/leadchanges.json') {
      if (!params.get('fields')) return fail('1003', 'fields is required');
      return readLog(params, (a) => a.activityTypeId === NEW_LEAD || a.activityTypeId === CHANGE_DATA_VALUE, (a) => ({ ...restActivity(a), fields: a.fields ?? [] }));
    }
    if (path === '/rest/v1/activities.json') {
      const typeIds = (params.get('activityTypeIds') ?? '').split(',').filter(Boolean).map(Number);
      if (typeIds.length === 0 || typeIds.length > 10) return fail('1003', 'activityTypeIds: 1 to 10 ids');
      return readLog(params, (a) => typeIds.includes(a.activityTypeId), restActivity);
    }
    if (path === '/rest/v1/activities/deletedleads.json') {
      return readLog(params, (a) => a.activityTypeId === DELETE_LEAD, restActivity);
    }
    if (path === '/rest/v1/leads.json' && request.method === 'POST' && params.get('_method') === 'GET') {
      const read = form ?? new URLSearchParams();
      if (read.get('filterType') !== 'id') return fail('1003', 'This mock reads leads by id');
      const ids = (read.get('filterValues') ?? '').split(',').filter(Boolean).map(Number);
      if (ids.length > MAX_BATCH) {
        state.refused.batch++;
        return fail('1003', `Too many filter values: at most ${MAX_BATCH}`);
      }
      const fields = (read.get('fields') ?? 'id,email').split(',');
      return ok(ids.flatMap((id) => (state.leads.has(id) ? [Object.fromEntries(fields.map((f) => [f, state.leads.get(id)![f] ?? null]))] : [])));
    }
    if (path === '/rest/v1/companies/describe.json') {
      return ok([
        {
          name: 'Company',
          idField: 'id',
          dedupeFields: ['externalCompanyId'],
          searchableFields: COMPANY_SEARCHABLE.map((field) => [field]),
          fields: COMPANY_FIELDS.map((field) => ({ ...field, updateable: !['id', 'externalCompanyId', 'createdAt', 'updatedAt'].includes(field.name) })),
        },
      ]);
    }
    if (path === '/rest/v1/companies.json' && (request.method === 'GET' || (request.method === 'POST' && params.get('_method') === 'GET'))) {
      return queryCompanies(form ?? params);
    }
    const bulk = /^\/bulk\/v1\/(leads|activities)\/export\/(?:create\.json|([^/]+)\/(enqueue|status|file)\.json)$/.exec(path);
    if (bulk) return bulkRoute(request, bulk[1] as 'leads' | 'activities', bulk[2], bulk[3]);
    return { status: 404, body: { message: 'Not found' } };
  }

  /** companies.json as a query: one searchable filterType, 1 to 300 filterValues, known fields, pages of batchSize. */
  function queryCompanies(read: URLSearchParams): MockReply {
    const filterType = read.get('filterType') ?? '';
    if (!COMPANY_SEARCHABLE.includes(filterType)) return fail('1003', `Invalid filterType '${filterType}': one of ${COMPANY_SEARCHABLE.join(', ')}`);
    const values = (read.get('filterValues') ?? '').split(',').filter(Boolean);
    if (values.length === 0) return fail('1003', 'filterValues is required');
    if (values.length > MAX_BATCH) {
      state.refused.batch++;
      return fail('1003', `Too many filter values: at most ${MAX_BATCH}`);
    }
    const known = new Set(COMPANY_FIELDS.map((field) => field.name));
    const fields = read.get('fields') ? read.get('fields')!.split(',') : ['id', 'externalCompanyId', 'createdAt', 'updatedAt'];
    const unknown = fields.find((field) => !known.has(field));
    if (unknown) return fail('1006', `Field '${unknown}' not found`);
    const batchSize = Number(read.get('batchSize') ?? MAX_BATCH);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
      state.refused.batch++;
      return fail('1003', `batchSize must be 1 to ${MAX_BATCH}`);
    }
    const offset = read.get('nextPageToken') ? position(read.get('nextPageToken')) : 0;
    if (offset === undefined) return fail('1003', 'Invalid nextPageToken');
    const wanted = new Set(values);
    const matches = [...state.companies.values()].filter((company) => wanted.has(String(company[filterType])));
    const page = matches.slice(offset, offset + batchSize).map((company, index) => ({ seq: offset + index, ...Object.fromEntries(fields.map((f) => [f, company[f] ?? null])) }));
    const more = offset + batchSize < matches.length;
    return ok(page, more ? { nextPageToken: pagingToken(offset + batchSize), moreResult: true } : {});
  }

  function bulkRoute(request: MockRequest, kind: 'leads' | 'activities', exportId: string | undefined, action: string | undefined): MockReply {
    if (!exportId) {
      const body = parseJson(request.body);
      const filter = isObject(body) && isObject(body.filter) ? body.filter : {};
      const createdAt = isObject(filter.createdAt) ? filter.createdAt : undefined;
      const startAt = Date.parse(String(createdAt?.startAt));
      const endAt = Date.parse(String(createdAt?.endAt));
      if (Number.isNaN(startAt) || Number.isNaN(endAt)) return fail('1003', 'filter.createdAt with startAt and endAt is required');
      if (endAt - startAt > MAX_RANGE_MS) {
        state.refused.range++;
        return fail('1003', 'Date range exceeds 31 days');
      }
      const fields = kind === 'leads' ? (isObject(body) && Array.isArray(body.fields) ? body.fields.map(String) : []) : ACTIVITY_COLUMNS;
      if (fields.length === 0) return fail('1003', 'fields is required');
      const job: ExportJob = {
        exportId: `exp-${nextExportId++}`,
        kind,
        status: 'Created',
        fields,
        startAt,
        endAt,
        activityTypeIds: Array.isArray(filter.activityTypeIds) ? filter.activityTypeIds.map(Number) : null,
      };
      state.exports.set(job.exportId, job);
      return ok([{ exportId: job.exportId, format: 'CSV', status: 'Created', createdAt: iso(now()) }]);
    }
    const job = state.exports.get(exportId);
    if (!job || job.kind !== kind) return fail('1003', 'Export job not found');
    if (action === 'enqueue') {
      const waiting = [...state.exports.values()].filter((other) => other.status === 'Queued').length;
      if (waiting >= MAX_QUEUED) {
        state.refused.exportLimit++;
        return fail('1029', 'Too many jobs in queue');
      }
      job.status = 'Queued';
      advanceExports();
      return ok([{ exportId, status: job.status }]);
    }
    if (action === 'status') {
      const reply = ok([{ exportId, format: 'CSV', status: job.status, ...(job.file !== undefined ? { numberOfRecords: job.file.split('\n').length - 2, fileSize: job.file.length } : {}) }]);
      // Each look moves the queue on: a processing job completes, a queued one starts when there is room.
      if (job.status === 'Processing') complete(job);
      advanceExports();
      return reply;
    }
    if (job.status !== 'Completed' || job.file === undefined) return fail('1003', 'Export file not available');
    return { status: 200, text: job.file, headers: { 'content-type': 'text/csv' } };
  }

  function advanceExports(): void {
    const all = [...state.exports.values()];
    for (const job of all.filter((j) => j.status === 'Queued')) {
      if (all.filter((j) => j.status === 'Processing').length >= MAX_PROCESSING) break;
      job.status = 'Processing';
    }
    state.maxExportsProcessing = Math.max(state.maxExportsProcessing, all.filter((j) => j.status === 'Processing').length);
    state.maxExportsQueued = Math.max(state.maxExportsQueued, all.filter((j) => j.status === 'Queued').length);
  }

  function complete(job: ExportJob): void {
    const inRange = (date: string) => Date.parse(date) >= job.startAt && Date.parse(date) < job.endAt;
    if (job.kind === 'leads') {
      const rows = [...state.leads.values()].filter((lead) => inRange(lead.createdAt)).map((lead) => Object.fromEntries(job.fields.map((f) => [f, lead[f] ?? undefined])));
      job.file = csvText(job.fields, rows as never);
    } else {
      const rows = state.log
        .filter((a) => inRange(a.activityDate) && (!job.activityTypeIds || job.activityTypeIds.includes(a.activityTypeId)))
        .map((a) => ({ ...restActivity(a), primaryAttributeValueId: undefined, attributes: JSON.stringify(Object.fromEntries(a.attributes.map((x) => [x.name, x.value]))) }));
      job.file = csvText(ACTIVITY_COLUMNS, rows as never);
    }
    job.status = 'Completed';
  }

  const server = await startMarketoServer(access, {
    apiRoots: ['/rest/', '/bulk/'],
    api: (request) => access.admit(request, () => access.tokenRefusal(request) ?? route(request, request.url.pathname)),
    record: (request, errorCode) =>
      state.calls.push({ method: request.method, path: request.url.pathname, query: Object.fromEntries(request.url.searchParams), ...(errorCode ? { errorCode } : {}) }),
  });

  return {
    ...server,
    state,
    /** `count` leads created at `createdAt` (each with a New Lead activity), shaped by the export-file factory; their ids. */
    addLeads(count: number, at: Date = new Date(now()), fields: (n: number) => Record<string, string | number | boolean | undefined> = () => ({})): number[] {
      const ids: number[] = [];
      for (let i = 0; i < count; i++) {
        const id = ++nextLeadId;
        const { id: _ignored, updatedAt: _u, ...generated } = marketoLead(id - 1000, fields(id));
        const lead = { ...(generated as Record<string, string | number | boolean>), id, createdAt: at.toISOString(), updatedAt: at.toISOString() } as Lead;
        state.leads.set(id, lead);
        log({ leadId: id, activityDate: at.toISOString(), activityTypeId: NEW_LEAD, campaignId: null, primaryAttributeValue: null, attributes: [{ name: 'Source Type', value: 'New lead' }] });
        ids.push(id);
      }
      return ids;
    },
    /**
     * `count` companies, shaped by the export-file factory, each with an externalCompanyId
     * (Marketo's dedupe field, which a lead's own externalCompanyId names); their externalCompanyIds.
     */
    addCompanies(count: number, fields: (n: number) => Record<string, string | number> = () => ({})): string[] {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const n = nextCompanyId++;
        const externalCompanyId = `EXT-${String(n).padStart(6, '0')}`;
        const { id: _ignored, ...generated } = marketoCompany(n, fields(n));
        const at = new Date(now()).toISOString();
        state.companies.set(externalCompanyId, { ...(generated as Record<string, string | number>), id: 5000 + n, externalCompanyId, createdAt: at, updatedAt: at } as Company);
        ids.push(externalCompanyId);
      }
      return ids;
    },
    /** Changes a lead's fields, as a user in Marketo would: a Change Data Value activity per field. */
    changeLead(id: number, fields: Record<string, string | number | boolean>, at: Date = new Date(now())): void {
      const lead = state.leads.get(id);
      if (!lead) throw new Error(`No lead ${id}`);
      const changes = Object.entries(fields).map(([name, newValue], index) => ({ id: index + 1, name, newValue, oldValue: lead[name] ?? null }));
      Object.assign(lead, fields, { updatedAt: at.toISOString() });
      log({ leadId: id, activityDate: at.toISOString(), activityTypeId: CHANGE_DATA_VALUE, campaignId: null, primaryAttributeValue: Object.keys(fields).join(', '), attributes: [], fields: changes });
    },
    /** Activities of a lead, shaped by the export-file factory (page views, email opens and clicks, form fills, ...). */
    addActivities(leadId: number, count: number, at: Date = new Date(now())): void {
      for (let i = 0; i < count; i++) {
        const generated = marketoActivity(nextActivityId, leadId);
        const attributes = Object.entries(JSON.parse(String(generated.attributes)) as Record<string, unknown>).map(([name, value]) => ({ name, value }));
        log({
          leadId,
          activityDate: at.toISOString(),
          activityTypeId: Number(generated.activityTypeId),
          campaignId: Number(generated.campaignId),
          primaryAttributeValue: String(generated.primaryAttributeValue),
          attributes,
        });
      }
    },
    deleteLead(id: number, at: Date = new Date(now())): void {
      state.leads.delete(id);
      log({ leadId: id, activityDate: at.toISOString(), activityTypeId: DELETE_LEAD, campaignId: null, primaryAttributeValue: null, attributes: [] });
    },
    callsTo(pattern: RegExp) {
      return state.calls.filter((call) => pattern.test(call.path));
    },
  };
}

export type MarketoSourceMock = Awaited<ReturnType<typeof startMarketoSourceMock>>;
