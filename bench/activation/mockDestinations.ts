/**
 * Destinations for the activation benchmark, holding the limits the real APIs
 * publish and counting what they refuse: a Marketo instance (100 calls in any
 * 20 s, 10 at once, 300 ids per list call: 606, 615 and 1003 beyond), LinkedIn's
 * contact-list stream (600 requests a minute: 429 beyond) and a webhook receiver
 * that notes when each member arrives: the few lines the measurements need.
 */
import { startMockServer } from '../support/mockServer.js';

/** Start times of accepted calls in a sliding window; false when `limit` are already in it. */
function windowOf(windowMs: number) {
  const times: number[] = [];
  return (at: number, limit: number): boolean => {
    while (times.length && times[0]! <= at - windowMs) times.shift();
    if (times.length >= limit) return false;
    times.push(at);
    return true;
  };
}

export async function startBenchMarketo() {
  const admit = windowOf(20_000);
  let inFlight = 0;
  const state = { calls: [] as Array<{ at: number; leads: number }>, refused: { rate606: 0, concurrency615: 0, batch1003: 0 }, listed: new Set<number>() };
  const server = await startMockServer(({ method, url, body }) => {
    if (url.pathname === '/identity/oauth/token') return { status: 200, body: { access_token: 'bench', token_type: 'bearer', expires_in: 3600 } };
    const list = /^\/rest\/v1\/lists\/\d+\/leads\.json$/.exec(url.pathname);
    if (!list || method !== 'POST') return { status: 404 };
    const at = Date.now();
    if (inFlight >= 10) {
      state.refused.concurrency615++;
      return { status: 200, body: { success: false, errors: [{ code: '615', message: 'Concurrent access limit reached' }] } };
    }
    if (!admit(at, 100)) {
      state.refused.rate606++;
      return { status: 200, body: { success: false, errors: [{ code: '606', message: 'Max rate limit exceeded' }] } };
    }
    inFlight++;
    try {
      const ids = (JSON.parse(body) as { input: Array<{ id: number }> }).input.map((item) => item.id);
      if (ids.length > 300) {
        state.refused.batch1003++;
        return { status: 200, body: { success: false, errors: [{ code: '1003', message: 'Too many records' }] } };
      }
      state.calls.push({ at, leads: ids.length });
      for (const id of ids) state.listed.add(id);
      return { status: 200, body: { success: true, result: ids.map((id) => ({ id, status: 'added' })) } };
    } finally {
      inFlight--;
    }
  });
  return { ...server, state, restUrl: `${server.url}/rest`, identityUrl: `${server.url}/identity` };
}

export async function startBenchLinkedIn() {
  const admit = windowOf(60_000);
  let nextSegment = 900;
  const state = { accepted: [] as number[], refused429: 0 };
  const server = await startMockServer(({ method, url }) => {
    if (url.pathname === '/rest/dmpSegments' && method === 'POST') return { status: 201, body: { id: ++nextSegment } };
    if (!/^\/rest\/dmpSegments\/\d+\/users$/.test(url.pathname)) return { status: 404 };
    const at = Date.now();
    if (!admit(at, 600)) {
      state.refused429++;
      return { status: 429, body: { status: 429, message: 'Too many requests' } };
    }
    state.accepted.push(at);
    return { status: 201, body: { elements: [] } };
  });
  return { ...server, state, apiUrl: server.url };
}

export async function startBenchWebhook() {
  const arrivals = new Map<string, number>();
  const server = await startMockServer(({ body }) => {
    const at = performance.now();
    for (const event of (JSON.parse(body) as { events: Array<{ memberId?: string }> }).events) if (event.memberId && !arrivals.has(event.memberId)) arrivals.set(event.memberId, at);
    return { status: 204 };
  });
  return { ...server, arrivals };
}
