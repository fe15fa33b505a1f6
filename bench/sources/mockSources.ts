/**
 * A Marketo instance and a Salesforce org for the sources benchmark, serving the
 * calls our connectors make (tokens; Marketo Bulk Extract, paging tokens, lead
 * changes, activities, deleted leads, leads by id; Salesforce Bulk API 2.0 query
 * jobs, `query`, deleted records) over rows made by the export-file fixtures, the
 * same rows the file import reads. They count the calls and the Marketo ones that
 * would break the published limits (100 per 20 s): the few lines the measurement
 * needs.
 */
import { csvText, type Row } from '../../lib/fixtures/exportFiles.js';
import { startMockServer, type MockReply } from '../support/mockServer.js';

const CSV = { 'content-type': 'text/csv' };
const ok = (result: unknown[], extra: Record<string, unknown> = {}): MockReply => ({ body: { requestId: 'bench', success: true, result, ...extra } });

/** Leads (each with createdAt) and activities as Marketo's exports hold them; `changeLead` logs a Change Data Value. */
export async function startBenchMarketo(leads: Row[], activities: Row[], createdAt: Date) {
  const leadColumns = Object.keys(leads[0] ?? {});
  const byId = new Map(leads.map((lead) => [String(lead.id), { ...lead }]));
  const changes: Array<{ seq: number; leadId: string; at: string }> = [];
  const exports = new Map<string, string>();
  const window: number[] = [];
  const state = { calls: 0, overLimit: 0 };
  const activityColumns = ['marketoGUID', 'leadId', 'activityDate', 'activityTypeId', 'campaignId', 'primaryAttributeValue', 'attributes'];
  const token = (seq: number) => Buffer.from(`bench:${seq}`).toString('base64url');
  const position = (value: string | null) => Number(/^bench:(\d+)$/.exec(Buffer.from(value ?? '', 'base64url').toString())?.[1] ?? 0);
  const server = await startMockServer(({ method, url, body }) => {
    if (url.pathname === '/identity/oauth/token') return { body: { access_token: 'bench', token_type: 'bearer', expires_in: 3600 } };
    state.calls++;
    const at = Date.now();
    while (window.length && window[0]! <= at - 20_000) window.shift();
    window.push(at);
    if (window.length > 100) state.overLimit++;
    const path = url.pathname;
    const bulk = /^\/bulk\/v1\/(leads|activities)\/export\/(?:create\.json|([^/]+)\/(enqueue|status|file)\.json)$/.exec(path);
    if (bulk && !bulk[2]) {
      const filter = (JSON.parse(body) as { filter: { createdAt: { startAt: string; endAt: string } } }).filter.createdAt;
      const inRange = createdAt >= new Date(filter.startAt) && createdAt < new Date(filter.endAt);
      const id = `exp-${exports.size + 1}`;
      exports.set(id, bulk[1] === 'leads' ? csvText(leadColumns, inRange ? leads : []) : csvText(activityColumns, inRange ? activities : []));
      return ok([{ exportId: id, status: 'Created' }]);
    }
    if (bulk && bulk[3] === 'enqueue') return ok([{ exportId: bulk[2], status: 'Queued' }]);
    if (bulk && bulk[3] === 'status') return ok([{ exportId: bulk[2], status: 'Completed' }]);
    if (bulk && bulk[3] === 'file') return { text: exports.get(bulk[2]!) ?? '', headers: CSV };
    if (path === '/rest/v1/activities/pagingtoken.json') return ok([], { nextPageToken: token(changes.length) });
    if (path === '/rest/v1/activities/leadchanges.json') {
      const from = position(url.searchParams.get('nextPageToken'));
      const page = changes.slice(from, from + 300);
      return ok(page.map((change) => ({ id: change.seq, leadId: Number(change.leadId), activityTypeId: 13, activityDate: change.at, fields: [] })), {
        nextPageToken: token(from + page.length),
        moreResult: from + page.length < changes.length,
      });
    }
    if (path === '/rest/v1/activities.json' || path === '/rest/v1/activities/deletedleads.json') {
      return ok([], { nextPageToken: url.searchParams.get('nextPageToken'), moreResult: false });
    }
    if (path === '/rest/v1/leads.json' && method === 'POST') {
      const form = new URLSearchParams(body);
      const fields = (form.get('fields') ?? '').split(',');
      const found = (form.get('filterValues') ?? '').split(',').flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
      return ok(found.map((lead) => Object.fromEntries(fields.map((field) => [field, lead[field] ?? null]))));
    }
    return { status: 404, body: { message: 'not found' } };
  });
  return {
    ...server,
    state,
    restUrl: `${server.url}/rest`,
    identityUrl: `${server.url}/identity`,
    changeLead(id: string, fields: Row): void {
      Object.assign(byId.get(id)!, fields);
      changes.push({ seq: changes.length, leadId: id, at: new Date().toISOString() });
    },
  };
}

/** Salesforce objects as Bulk API 2.0 answers them (CSV by locator); `query` answers nothing changed. */
export async function startBenchSalesforce(objects: Record<string, Row[]>) {
  const jobs = new Map<string, string>();
  const state = { calls: 0, overLimit: 0 };
  const server = await startMockServer(({ method, url, body }) => {
    if (url.pathname === '/services/oauth2/token') return { body: { access_token: 'bench', instance_url: server.url, token_type: 'Bearer' } };
    state.calls++;
    const headers = { 'sforce-limit-info': `api-usage=${state.calls}/1000000` };
    const path = url.pathname.replace(/^\/services\/data\/v[\d.]+/, '');
    if (path === '/jobs/query' && method === 'POST') {
      const object = /FROM (\w+)/.exec((JSON.parse(body) as { query: string }).query)![1]!;
      const id = `750B${jobs.size + 1}`;
      jobs.set(id, object);
      return { body: { id, state: 'UploadComplete' }, headers };
    }
    const job = /^\/jobs\/query\/(\w+)(\/results)?$/.exec(path);
    if (job && !job[2]) return { body: { id: job[1], state: 'JobComplete' }, headers };
    if (job) {
      const rows = objects[jobs.get(job[1]!)!] ?? [];
      const offset = Number(url.searchParams.get('locator') ?? 0);
      const max = Number(url.searchParams.get('maxRecords') ?? 50_000);
      const slice = rows.slice(offset, offset + max);
      const columns = Object.keys(rows[0] ?? { Id: '' });
      return { text: csvText(columns, slice), headers: { ...headers, ...CSV, 'sforce-locator': offset + max < rows.length ? String(offset + max) : 'null' } };
    }
    if (path === '/query') return { body: { totalSize: 0, done: true, records: [] }, headers };
    if (/^\/sobjects\/\w+\/deleted\/?$/.test(path)) return { body: { deletedRecords: [], latestDateCovered: new Date().toISOString() }, headers };
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'not found' }], headers };
  });
  return { ...server, state };
}
