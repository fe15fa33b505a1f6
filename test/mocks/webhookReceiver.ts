/**
 * A webhook receiver that does what a careful real one does: checks the
 * HMAC-SHA256 signature over "<t>.<body>" in constant time, refuses timestamps
 * older (or newer) than its tolerance, and records each delivery with its
 * idempotency key, so tests can see what arrived and what arrived twice. It can
 * be told to fail the next requests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isObject, parseJson, startMockServer, type MockReply } from './httpServer.js';

export interface WebhookDelivery {
  idempotencyKey: string | undefined;
  body: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** @default Date.now */
  now?: () => number;
  toleranceSeconds?: number;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions) {
  const now = options.now ?? Date.now;
  const tolerance = options.toleranceSeconds ?? 300;
  const injected: number[] = [];
  const state = {
    deliveries: [] as WebhookDelivery[],
    rejected: [] as Array<{ reason: string }>,
  };

  function verify(header: string | undefined, body: string): string | undefined {
    const fields = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2)));
    const t = Number(fields.t);
    const v1 = String(fields.v1 ?? '');
    if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return 'malformed signature';
    if (Math.abs(now() / 1000 - t) > tolerance) return 'stale timestamp';
    const expected = createHmac('sha256', options.secret).update(`${t}.${body}`).digest();
    return timingSafeEqual(expected, Buffer.from(v1, 'hex')) ? undefined : 'signature mismatch';
  }

  const server = await startMockServer((request): MockReply => {
    if (request.method !== 'POST') return { status: 405 };
    const problem = verify(request.headers['x-cdp-signature'] as string | undefined, request.body);
    if (problem) {
      state.rejected.push({ reason: problem });
      return { status: 401, body: { error: problem } };
    }
    const status = injected.shift();
    if (status) return { status, body: { error: 'injected' } };
    const body = parseJson(request.body);
    if (!isObject(body) || !Array.isArray(body.events)) return { status: 400, body: { error: 'events required' } };
    state.deliveries.push({
      idempotencyKey: request.headers['idempotency-key'] as string | undefined,
      body,
      events: body.events.filter(isObject),
    });
    return { status: 204 };
  }, now);

  return {
    ...server,
    state,
    failNext(status: number, times = 1): void {
      for (let i = 0; i < times; i++) injected.push(status);
    },
    /** Events of deliveries with distinct idempotency keys: what a deduplicating receiver would keep. */
    uniqueEvents(): Array<Record<string, unknown>> {
      const seen = new Set<string | undefined>();
      return state.deliveries.filter((d) => !seen.has(d.idempotencyKey) && seen.add(d.idempotencyKey)).flatMap((d) => d.events);
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
