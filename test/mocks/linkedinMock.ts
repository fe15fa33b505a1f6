/**
 * LinkedIn's Marketing API for matched audiences, as strict as the real one:
 * a valid bearer token, the versioned-API headers (`LinkedIn-Version: YYYYMM`,
 * `X-Restli-Protocol-Version: 2.0.0`, `X-RestLi-Method: BATCH_CREATE` on
 * streams), DMP segments created with their required fields, elements checked
 * (action, SHA256_EMAIL as 64 lowercase hex, a company name or domain), at most
 * 5000 per request, and 429 with Retry-After beyond the per-member limits
 * (600 a minute to /users, 300 to /companies).
 */
import { isObject, parseJson, SlidingWindow, startMockServer, type MockReply, type MockRequest } from './httpServer.js';

export interface LinkedInMockOptions {
  accessToken?: string;
  adAccount?: string;
  now?: () => number;
  usersPerWindow?: number;
  companiesPerWindow?: number;
  windowMs?: number;
  maxElements?: number;
}

export interface DmpSegment {
  id: string;
  name: string;
  account: string;
  type: 'USER' | 'COMPANY';
  /** Hashes (users) or `name|domain` (companies) currently in the segment. */
  members: Set<string>;
}

const HASH = /^[0-9a-f]{64}$/;

export async function startLinkedInMock(options: LinkedInMockOptions = {}) {
  const accessToken = options.accessToken ?? 'li-token';
  const adAccount = options.adAccount ?? '507404993';
  const maxElements = options.maxElements ?? 5000;
  const windows = {
    users: new SlidingWindow(options.windowMs ?? 60_000),
    companies: new SlidingWindow(options.windowMs ?? 60_000),
  };
  const limits = { users: options.usersPerWindow ?? 600, companies: options.companiesPerWindow ?? 300 };
  let nextSegmentId = 70000;
  const injected: MockReply[] = [];

  const state = {
    segments: new Map<string, DmpSegment>(),
    requests: [] as Array<{ method: string; path: string; headers: MockRequest['headers']; body: unknown; status: number }>,
    refused: { rate: 0, invalid: 0, auth: 0 },
  };

  const error = (status: number, code: string, message: string, headers?: Record<string, string>): MockReply => ({ status, body: { status, code, message }, headers });

  function checkHeaders(request: MockRequest, batch: boolean): MockReply | undefined {
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      state.refused.auth++;
      return error(401, 'INVALID_ACCESS_TOKEN', 'Invalid access token');
    }
    if (!/^\d{6}$/.test(String(request.headers['linkedin-version'] ?? ''))) return error(400, 'VERSION_MISSING', 'A version must be present. Please specify a version by adding the LinkedIn-Version header.');
    if (request.headers['x-restli-protocol-version'] !== '2.0.0') return error(400, 'PROTOCOL_VERSION', 'X-Restli-Protocol-Version 2.0.0 is required');
    if (batch && request.headers['x-restli-method'] !== 'BATCH_CREATE') return error(400, 'METHOD_MISSING', 'X-RestLi-Method: BATCH_CREATE is required for several elements');
    return undefined;
  }

  function invalid(message: string): MockReply {
    state.refused.invalid++;
    return error(400, 'INVALID_REQUEST', message);
  }

  function createSegment(body: unknown): MockReply {
    if (!isObject(body)) return invalid('A JSON body is required');
    if (typeof body.name !== 'string' || !body.name) return invalid('/name is required');
    if (typeof body.account !== 'string' || !/^urn:li:sponsoredAccount:\d+$/.test(body.account)) return invalid('/account must be urn:li:sponsoredAccount:<id>');
    if (body.type !== 'USER' && body.type !== 'COMPANY') return invalid('/type must be USER or COMPANY');
    if (!Array.isArray(body.destinations) || !body.destinations.some((d) => isObject(d) && d.destination === 'LINKEDIN')) return invalid('/destinations must include LINKEDIN');
    const id = String(++nextSegmentId);
    state.segments.set(id, { id, name: body.name, account: body.account, type: body.type, members: new Set() });
    return { status: 201, headers: { 'x-restli-id': id } };
  }

  function stream(request: MockRequest, segmentId: string, endpoint: 'users' | 'companies'): MockReply {
    const segment = state.segments.get(segmentId);
    if (!segment) return error(404, 'NOT_FOUND', `DMP segment ${segmentId} not found`);
    if (segment.type !== (endpoint === 'users' ? 'USER' : 'COMPANY')) return invalid(`Segment ${segmentId} is a ${segment.type} segment`);
    if (!windows[endpoint].tryAdd(request.arrivedAt, limits[endpoint])) {
      state.refused.rate++;
      const seconds = Math.max(1, Math.ceil(windows[endpoint].waitFrom(request.arrivedAt) / 1000));
      return error(429, 'TOO_MANY_REQUESTS', 'Resource level throttle limit for calls to this resource is reached', { 'retry-after': String(seconds) });
    }
    const body = parseJson(request.body);
    if (!isObject(body) || !Array.isArray(body.elements) || body.elements.length === 0) return invalid('/elements must be a non-empty array');
    if (body.elements.length > maxElements) return invalid(`/elements holds ${body.elements.length}; at most ${maxElements}`);
    const changes: Array<[string, boolean]> = [];
    for (const [index, element] of body.elements.entries()) {
      if (!isObject(element) || (element.action !== 'ADD' && element.action !== 'REMOVE')) return invalid(`/elements/${index}/action must be ADD or REMOVE`);
      let key: string;
      if (endpoint === 'users') {
        const ids = element.userIds;
        if (!Array.isArray(ids) || ids.length === 0) return invalid(`/elements/${index}/userIds is required`);
        const id = ids[0];
        if (!isObject(id) || id.idType !== 'SHA256_EMAIL' || typeof id.idValue !== 'string' || !HASH.test(id.idValue)) {
          return invalid(`/elements/${index}/userIds/0 must be SHA256_EMAIL with a 64-character lowercase hex idValue`);
        }
        key = id.idValue;
      } else {
        const name = typeof element.companyName === 'string' ? element.companyName : '';
        const domain = typeof element.companyWebsiteDomain === 'string' ? element.companyWebsiteDomain : '';
        if (!name && !domain && typeof element.organizationUrn !== 'string') return invalid(`/elements/${index} needs companyName, companyWebsiteDomain or organizationUrn`);
        if ('companyDomain' in element) return invalid(`/elements/${index}/companyDomain is not a field; use companyWebsiteDomain`);
        key = `${name}|${domain}`;
      }
      changes.push([key, element.action === 'ADD']);
    }
    for (const [key, add] of changes) {
      if (add) segment.members.add(key);
      else segment.members.delete(key);
    }
    return { status: 200, body: { elements: changes.map(() => ({ status: 201 })) } };
  }

  function route(request: MockRequest): MockReply {
    const path = request.url.pathname;
    const streamPath = /^\/rest\/dmpSegments\/(\d+)\/(users|companies)$/.exec(path);
    const account = /^\/rest\/adAccounts\/(\d+)$/.exec(path);
    const headerProblem = checkHeaders(request, Boolean(streamPath));
    if (headerProblem) return headerProblem;
    const injectedReply = injected.shift();
    if (injectedReply) return injectedReply;
    if (account && request.method === 'GET') {
      return account[1] === adAccount ? { status: 200, body: { id: Number(adAccount), name: 'Mock account', status: 'ACTIVE' } } : error(404, 'NOT_FOUND', 'Ad account not found');
    }
    if (path === '/rest/dmpSegments' && request.method === 'POST') return createSegment(parseJson(request.body));
    if (streamPath && request.method === 'POST') return stream(request, streamPath[1]!, streamPath[2] as 'users' | 'companies');
    return error(404, 'NOT_FOUND', 'Not found');
  }

  const server = await startMockServer((request) => {
    const reply = route(request);
    state.requests.push({ method: request.method, path: request.url.pathname, headers: request.headers, body: parseJson(request.body), status: reply.status });
    return reply;
  }, options.now);

  return {
    ...server,
    state,
    apiUrl: server.url,
    accessToken,
    adAccount,
    /** The next requests (after auth and headers) get these replies, e.g. a 429 or a 503. */
    failNext(status: number, times = 1, headers?: Record<string, string>): void {
      for (let i = 0; i < times; i++) injected.push(error(status, status === 429 ? 'TOO_MANY_REQUESTS' : 'SERVER_ERROR', `Injected ${status}`, headers));
    },
    createSegment(type: 'USER' | 'COMPANY'): string {
      const id = String(++nextSegmentId);
      state.segments.set(id, { id, name: `Segment ${id}`, account: `urn:li:sponsoredAccount:${adAccount}`, type, members: new Set() });
      return id;
    },
  };
}

export type LinkedInMock = Awaited<ReturnType<typeof startLinkedInMock>>;
