/**
 * A Marketo Engage instance that holds our destination connector to the contract
 * the real one enforces: Marketo's access rules (marketoAccess.ts: tokens that
 * expire, 601/602, 606 beyond 100 calls in any 20 s and 615 beyond 10 in flight,
 * limits configurable so a test can run them faster, `success: false` for
 * call-level errors), 1003 for batches over 300, 414 for GET URLs over 8 KB,
 * per-record statuses (1004, 1005, 1007, 1015), and an outage switch (503).
 * It records every call and counts what it refused.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isObject, parseJson, type MockReply, type MockRequest } from './httpServer.js';
import { marketoAccess, marketoFail as fail, marketoOk as ok, startMarketoServer, type MarketoAccessOptions } from './marketoAccess.js';

export interface MarketoMockOptions extends MarketoAccessOptions {
  /** Time each REST call takes, so concurrency can pile up. @default 0 */
  latencyMs?: number;
}

export interface MarketoLead {
  id: number;
  email: string;
  [field: string]: string | number | boolean | null;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The call-level error code answered, if any. */
  errorCode?: string;
}

const MAX_BATCH = 300;
const MAX_URL = 8 * 1024;

export async function startMarketoMock(options: MarketoMockOptions = {}) {
  let nextLeadId = 1000;
  const injected: Array<{ code: string; message: string }> = [];
  let gate: Promise<void> | undefined;
  const inFlightWaiters: Array<{ count: number; resolve: () => void }> = [];

  const state = {
    leads: new Map<number, MarketoLead>(),
    lists: new Map<number, Set<number>>(),
    calls: [] as RecordedCall[],
    tokensIssued: 0,
    outage: false,
    latencyMs: options.latencyMs ?? 0,
    refused: { rate: 0, concurrency: 0, batch: 0, auth: 0 },
    maxConcurrentSeen: 0,
    get maxCallsInWindow() {
      return access.maxCallsInWindow;
    },
  };
  const access = marketoAccess(state, options, { clientId: 'client-id', clientSecret: 'client-secret' });

  function findBy(field: string, value: string): MarketoLead[] {
    const wanted = field === 'email' ? value.toLowerCase() : value;
    return [...state.leads.values()].filter((lead) => {
      const held = lead[field];
      return typeof held === 'string' && (field === 'email' ? held.toLowerCase() : held) === wanted;
    });
  }

  function readLeads(params: URLSearchParams): MockReply {
    const filterType = params.get('filterType');
    const values = (params.get('filterValues') ?? '').split(',').filter(Boolean);
    if (!filterType || values.length === 0) return fail('1003', 'filterType and filterValues are required');
    if (values.length > MAX_BATCH) {
      state.refused.batch++;
      return fail('1003', `Too many filter values: at most ${MAX_BATCH}`);
    }
    const fields = (params.get('fields') ?? 'id,email,firstName,lastName').split(',');
    const found = values.flatMap((value) => findBy(filterType, value));
    return ok(found.map((lead) => Object.fromEntries(fields.map((field) => [field, lead[field] ?? null]))));
  }

  function writeLeads(body: unknown): MockReply {
    if (!isObject(body) || !Array.isArray(body.input)) return fail('609', 'Invalid JSON');
    if (body.input.length > MAX_BATCH) {
      state.refused.batch++;
      return fail('1003', `Too many records: at most ${MAX_BATCH}`);
    }
    const action = body.action ?? 'createOrUpdate';
    const lookupField = typeof body.lookupField === 'string' ? body.lookupField : 'email';
    return ok(
      body.input.map((input: unknown) => {
        if (!isObject(input) || typeof input[lookupField] !== 'string') return skipped('1003', `Value for ${lookupField} is required`);
        if (Object.values(input).some((value) => value !== null && typeof value === 'object')) return skipped('1003', 'Invalid value: fields take single values');
        const matches = findBy(lookupField, input[lookupField] as string);
        if (matches.length > 1) return skipped('1007', 'Multiple lead match lookup criteria');
        const existing = matches[0];
        if (existing) {
          if (action === 'createOnly') return skipped('1005', 'Lead already exists');
          Object.assign(existing, input, { id: existing.id });
          return { id: existing.id, status: 'updated' };
        }
        if (action === 'updateOnly') return skipped('1004', 'Lead not found');
        const lead = { ...(input as Record<string, string>), id: ++nextLeadId } as MarketoLead;
        state.leads.set(lead.id, lead);
        return { id: lead.id, status: 'created' };
      }),
    );
  }

  function changeList(method: string, listId: number, body: unknown): MockReply {
    const list = state.lists.get(listId);
    if (!list) return fail('1013', 'Static list not found');
    if (!isObject(body) || !Array.isArray(body.input)) return fail('609', 'Invalid JSON');
    if (body.input.length > MAX_BATCH) {
      state.refused.batch++;
      return fail('1003', `Too many records: at most ${MAX_BATCH}`);
    }
    return ok(
      body.input.map((item: unknown) => {
        const id = isObject(item) && typeof item.id === 'number' ? item.id : NaN;
        if (!state.leads.has(id)) return { id, status: 'skipped', reasons: [{ code: '1004', message: 'Lead not found' }] };
        if (method === 'POST') {
          list.add(id);
          return { id, status: 'added' };
        }
        if (!list.delete(id)) return { id, status: 'skipped', reasons: [{ code: '1015', message: 'Lead not in list' }] };
        return { id, status: 'removed' };
      }),
    );
  }

  function listLeads(listId: number, params: URLSearchParams): MockReply {
    const list = state.lists.get(listId);
    if (!list) return fail('1013', 'Static list not found');
    const size = Math.min(Number(params.get('batchSize') ?? MAX_BATCH), MAX_BATCH);
    const offset = Number(params.get('nextPageToken') ?? 0);
    const ids = [...list].sort((a, b) => a - b);
    const page = ids.slice(offset, offset + size).map((id) => ({ id, email: state.leads.get(id)?.email ?? null }));
    const more = offset + size < ids.length;
    return ok(page, more ? { moreResult: true, nextPageToken: String(offset + size) } : { moreResult: false });
  }

  async function rest(request: MockRequest, path: string): Promise<MockReply> {
    if (state.outage) return { status: 503, body: { message: 'Service Unavailable' } };
    if (request.method === 'GET' && request.url.pathname.length + request.url.search.length > MAX_URL) return { status: 414, body: { message: 'Request-URI Too Long' } };
    return access.admit(request, async () => {
      for (const waiter of inFlightWaiters.filter((w) => w.count <= access.inFlight)) {
        inFlightWaiters.splice(inFlightWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      if (gate) await gate;
      if (state.latencyMs) await delay(state.latencyMs);
      const refusal = access.tokenRefusal(request);
      if (refusal) return refusal;
      const injectedError = injected.shift();
      if (injectedError) return fail(injectedError.code, injectedError.message);
      return route(request, path);
    });
  }

  function route(request: MockRequest, path: string): MockReply {
    const json = parseJson(request.body);
    const methodOverride = request.url.searchParams.get('_method');
    const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(request.body) : undefined;
    const list = /^\/v1\/lists\/(\d+)\/leads\.json$/.exec(path);
    if (path === '/v1/lists.json' && request.method === 'GET') {
      return ok([...state.lists.keys()].slice(0, Number(request.url.searchParams.get('batchSize') ?? 300)).map((id) => ({ id, name: `List ${id}` })));
    }
    if (path === '/v1/leads.json') {
      if (request.method === 'GET') return readLeads(request.url.searchParams);
      if (request.method === 'POST' && methodOverride === 'GET') return readLeads(form ?? new URLSearchParams());
      if (request.method === 'POST') return writeLeads(json);
    }
    if (list) {
      const listId = Number(list[1]);
      if (request.method === 'GET') return listLeads(listId, request.url.searchParams);
      if (request.method === 'POST' || request.method === 'DELETE') return changeList(request.method, listId, json);
    }
    return { status: 404, body: { message: 'Not found' } };
  }

  const restPath = (request: MockRequest) => request.url.pathname.slice('/rest'.length);
  const server = await startMarketoServer(access, {
    apiRoots: ['/rest/'],
    api: (request) => rest(request, restPath(request)),
    record: (request, errorCode) =>
      state.calls.push({
        method: request.method,
        path: restPath(request),
        query: Object.fromEntries(request.url.searchParams),
        body: parseJson(request.body) ?? (request.body ? Object.fromEntries(new URLSearchParams(request.body)) : undefined),
        ...(errorCode ? { errorCode } : {}),
      }),
  });

  return {
    ...server,
    state,
    addLead(fields: Omit<MarketoLead, 'id'>): number {
      const id = ++nextLeadId;
      state.leads.set(id, { ...fields, id } as MarketoLead);
      return id;
    },
    createList(id: number, leadIds: number[] = []): void {
      state.lists.set(id, new Set(leadIds));
    },
    /** The next REST calls (after auth) answer these call-level errors, in order. */
    failNext(code: string, times = 1, message = `Injected error ${code}`): void {
      for (let i = 0; i < times; i++) injected.push({ code, message });
    },
    /** Holds every REST call in flight until the returned function is called. */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    /** Resolves once `count` REST calls are in flight at once. */
    whenInFlight(count: number): Promise<void> {
      return access.inFlight >= count ? Promise.resolve() : new Promise((resolve) => inFlightWaiters.push({ count, resolve }));
    },
    /** Calls that reached the API, without token requests; `errorCode` set on refused ones. */
    callsTo(method: string, pathPattern: RegExp): RecordedCall[] {
      return state.calls.filter((call) => call.method === method && pathPattern.test(call.path));
    },
  };
}

function skipped(code: string, message: string) {
  return { status: 'skipped', reasons: [{ code, message }] };
}

export type MarketoMock = Awaited<ReturnType<typeof startMarketoMock>>;
