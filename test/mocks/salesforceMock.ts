/**
 * A Salesforce org holding our connector to the contract the real one enforces:
 * OAuth 2.0 client credentials at `/services/oauth2/token` (400 invalid_client),
 * Bearer sessions that can be expired (401 INVALID_SESSION_ID), a daily API
 * request budget reported in every answer's `Sforce-Limit-Info` header and
 * refused beyond it (403 REQUEST_LIMIT_EXCEEDED); the REST `query` resource with
 * `nextRecordsUrl` paging (the SOQL our connector sends: fields, one object, a
 * SystemModstamp/Id position, ORDER BY SystemModstamp, Id); Bulk API 2.0 query
 * jobs (create, state, CSV results by locator with `Sforce-Locator`); and
 * `sobjects/<object>/deleted`. Records come from the export-file factories.
 */
import { csvText, type Row, salesforceAccount, salesforceContact, salesforceContactRole, salesforceOpportunity } from '../../lib/fixtures/exportFiles.js';
import { isObject, parseJson, startMockServer, type MockReply, type MockRequest } from './httpServer.js';

export interface SalesforceMockOptions {
  clientId?: string;
  clientSecret?: string;
  now?: () => number;
  /** API requests the org allows per 24 hours. @default 100 000 */
  dailyApiLimit?: number;
  /** Records per `query` batch before `nextRecordsUrl`. @default 2000 */
  queryBatchSize?: number;
}

type SfValue = string | number | boolean | null;
type SfRecord = Record<string, SfValue> & { Id: string; SystemModstamp: string };
interface QueryCursor {
  object: string;
  records: SfRecord[];
  fields: string[];
  offset: number;
}

const OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'OpportunityContactRole'] as const;
const API = /^\/services\/data\/v(\d+\.\d)(\/.*)$/;
const SOQL =
  /^SELECT (.+?) FROM (\w+)(?: WHERE SystemModstamp > (\S+) OR \(SystemModstamp = (\S+) AND Id > '(\w*)'\))?(?: ORDER BY SystemModstamp ASC, Id ASC)?$/;

export async function startSalesforceMock(options: SalesforceMockOptions = {}) {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? 'sf-client';
  const clientSecret = options.clientSecret ?? 'sf-secret';
  const sessions = new Set<string>();
  let nextSession = 1;
  let nextLocatorId = 1;
  let nextJobId = 1;
  let lastStamp = 0;
  const cursors = new Map<string, QueryCursor>();
  const jobs = new Map<string, { object: string; fields: string[]; state: string; rows: SfRecord[] }>();

  const state = {
    objects: Object.fromEntries(OBJECTS.map((name) => [name, new Map<string, SfRecord>()])) as Record<string, Map<string, SfRecord>>,
    deleted: Object.fromEntries(OBJECTS.map((name) => [name, [] as Array<{ id: string; deletedDate: string }>])) as Record<string, Array<{ id: string; deletedDate: string }>>,
    apiUsed: 0,
    dailyApiLimit: options.dailyApiLimit ?? 100_000,
    refused: { auth: 0, session: 0, limit: 0, soql: 0 },
    calls: [] as Array<{ method: string; path: string; status: number }>,
  };

  /** A modstamp after every earlier one, as Salesforce's are (ties allowed within a millisecond). */
  const stamp = () => {
    lastStamp = Math.max(lastStamp, now());
    return new Date(lastStamp).toISOString().replace('Z', '+0000');
  };
  const errors = (status: number, errorCode: string, message: string): MockReply => ({ status, body: [{ message, errorCode }] });

  function token(request: MockRequest): MockReply {
    const form = new URLSearchParams(request.body);
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      state.refused.auth++;
      return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
    }
    const session = `00Dmock!${nextSession++}`;
    sessions.add(session);
    return { status: 200, body: { access_token: session, instance_url: server.url, id: `${server.url}/id/00Dmock/005mock`, token_type: 'Bearer', issued_at: String(now()), signature: 'mock' } };
  }

  const sfRecord = (object: string, record: SfRecord, fields: string[]) => ({
    attributes: { type: object, url: `/services/data/v62.0/sobjects/${object}/${record.Id}` },
    ...Object.fromEntries(fields.map((field) => [field, record[field] ?? null])),
  });

  function query(version: string, soql: string): MockReply {
    const match = SOQL.exec(soql.trim().replace(/\s+/g, ' '));
    if (!match || !state.objects[match[2]!]) {
      state.refused.soql++;
      return errors(400, 'MALFORMED_QUERY', `unexpected query: ${soql}`);
    }
    const [, fieldList, object, after, equal, afterId] = match;
    const fields = fieldList!.split(',').map((field) => field.trim());
    const since = after ? Date.parse(after) : -Infinity;
    if (after && after !== equal) return errors(400, 'MALFORMED_QUERY', 'the two SystemModstamp bounds differ');
    const ms = (record: SfRecord) => Date.parse(record.SystemModstamp.replace(/(\d{2})(\d{2})$/, '$1:$2'));
    const records = [...state.objects[object!]!.values()]
      .filter((record) => ms(record) > since || (ms(record) === since && record.Id > (afterId ?? '')))
      .sort((a, b) => ms(a) - ms(b) || (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
    return page(version, { object: object!, records, fields, offset: 0 });
  }

  function page(version: string, cursor: QueryCursor): MockReply {
    const size = options.queryBatchSize ?? 2000;
    const batch = cursor.records.slice(cursor.offset, cursor.offset + size);
    const done = cursor.offset + size >= cursor.records.length;
    let nextRecordsUrl: string | undefined;
    if (!done) {
      const locator = `01gMOCK${nextLocatorId++}-${cursor.offset + size}`;
      cursors.set(locator, { ...cursor, offset: cursor.offset + size });
      nextRecordsUrl = `/services/data/v${version}/query/${locator}`;
    }
    return { status: 200, body: { totalSize: cursor.records.length, done, ...(nextRecordsUrl ? { nextRecordsUrl } : {}), records: batch.map((r) => sfRecord(cursor.object, r, cursor.fields)) } };
  }

  function route(request: MockRequest, version: string, path: string): MockReply {
    const params = request.url.searchParams;
    if (path === '/query' && request.method === 'GET') return query(version, params.get('q') ?? '');
    const more = /^\/query\/(01gMOCK[\w-]+)$/.exec(path);
    if (more && request.method === 'GET') {
      const cursor = cursors.get(more[1]!);
      if (!cursor) return errors(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      cursors.delete(more[1]!);
      return page(version, cursor);
    }
    if (path === '/jobs/query' && request.method === 'POST') {
      const body = parseJson(request.body);
      const match = isObject(body) && body.operation === 'query' && typeof body.query === 'string' ? SOQL.exec(body.query.trim()) : null;
      if (!match || match[3] || !state.objects[match[2]!]) return errors(400, 'INVALIDJOB', 'a query job needs operation "query" and a SELECT of one object');
      const id = `750MOCK${nextJobId++}`;
      jobs.set(id, { object: match[2]!, fields: match[1]!.split(',').map((f) => f.trim()), state: 'UploadComplete', rows: [] });
      return { status: 200, body: { id, operation: 'query', object: match[2], state: 'UploadComplete', contentType: 'CSV', apiVersion: Number(version) } };
    }
    const job = /^\/jobs\/query\/(750MOCK\d+)(\/results)?$/.exec(path);
    if (job) {
      const found = jobs.get(job[1]!);
      if (!found) return errors(404, 'NOT_FOUND', 'job not found');
      if (!job[2]) {
        // The job runs between two looks: InProgress first, then JobComplete with its rows fixed.
        if (found.state === 'UploadComplete') found.state = 'InProgress';
        else if (found.state === 'InProgress') {
          found.state = 'JobComplete';
          found.rows = [...state.objects[found.object]!.values()];
        }
        return { status: 200, body: { id: job[1], operation: 'query', object: found.object, state: found.state, numberRecordsProcessed: found.rows.length } };
      }
      if (found.state !== 'JobComplete') return errors(400, 'INVALIDJOBSTATE', 'the job has not completed');
      const offset = Number(params.get('locator') ?? 0);
      const max = Number(params.get('maxRecords') ?? 50_000);
      const slice = found.rows.slice(offset, offset + max);
      const next = offset + max < found.rows.length ? String(offset + max) : 'null';
      const rows = slice.map((record) => Object.fromEntries(found.fields.map((field) => [field, record[field] === null ? undefined : record[field]])));
      return { status: 200, text: csvText(found.fields, rows as never), headers: { 'content-type': 'text/csv', 'sforce-locator': next, 'sforce-numberofrecords': String(slice.length) } };
    }
    const deleted = /^\/sobjects\/(\w+)\/deleted\/?$/.exec(path);
    if (deleted && state.deleted[deleted[1]!]) {
      const start = Date.parse(params.get('start') ?? '');
      const end = Date.parse(params.get('end') ?? '');
      if (Number.isNaN(start) || Number.isNaN(end) || end - start < 60_000) return errors(400, 'INVALID_REPLICATION_DATE', 'start and end must be dates at least a minute apart');
      const records = state.deleted[deleted[1]!]!.filter((record) => Date.parse(record.deletedDate) >= start && Date.parse(record.deletedDate) < end);
      return { status: 200, body: { deletedRecords: records, earliestDateAvailable: new Date(0).toISOString(), latestDateCovered: new Date(end).toISOString() } };
    }
    return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  const server = await startMockServer(async (request) => {
    const path = request.url.pathname;
    if (path === '/services/oauth2/token' && request.method === 'POST') return token(request);
    const api = API.exec(path);
    if (!api) return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
    const session = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    let reply: MockReply;
    if (!session || !sessions.has(session)) {
      state.refused.session++;
      reply = errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    } else if (state.apiUsed >= state.dailyApiLimit) {
      state.refused.limit++;
      reply = errors(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    } else {
      state.apiUsed++;
      reply = route(request, api[1]!, api[2]!);
    }
    state.calls.push({ method: request.method, path, status: reply.status });
    return { ...reply, headers: { ...reply.headers, 'sforce-limit-info': `api-usage=${state.apiUsed}/${state.dailyApiLimit}` } };
  }, now);

  function put(object: string, fields: Record<string, SfValue | undefined>): string {
    const record = { ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), SystemModstamp: stamp() } as SfRecord;
    record.LastModifiedDate = record.SystemModstamp;
    state.objects[object]!.set(record.Id, record);
    return record.Id;
  }

  return {
    ...server,
    state,
    loginUrl: server.url,
    instanceUrl: server.url,
    clientId,
    clientSecret,
    addAccount: (n: number, fields: Row = {}) => put('Account', salesforceAccount(n, fields) as Record<string, SfValue>),
    addContact: (n: number, accountN: number, fields: Row = {}) => put('Contact', salesforceContact(n, accountN, fields) as Record<string, SfValue>),
    addOpportunity: (n: number, accountN: number, fields: Row = {}) => put('Opportunity', salesforceOpportunity(n, accountN, fields) as Record<string, SfValue>),
    addContactRole: (n: number, opportunityN: number, contactN: number) => put('OpportunityContactRole', salesforceContactRole(n, opportunityN, contactN) as Record<string, SfValue>),
    /** Changes a record as a user would: new values and a new SystemModstamp. */
    update(object: string, id: string, fields: Record<string, SfValue>): void {
      const record = state.objects[object]!.get(id);
      if (!record) throw new Error(`No ${object} ${id}`);
      put(object, { ...record, ...fields });
    },
    remove(object: string, id: string): void {
      state.objects[object]!.delete(id);
      state.deleted[object]!.push({ id, deletedDate: new Date(now()).toISOString() });
    },
    /** Ends every session (401 INVALID_SESSION_ID on its next use). */
    expireSessions(): void {
      sessions.clear();
    },
  };
}

export type SalesforceMock = Awaited<ReturnType<typeof startSalesforceMock>>;
