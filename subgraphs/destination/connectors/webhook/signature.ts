/**
 * Webhook signatures, in the scheme Stripe made familiar:
 * `X-CDP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * The timestamp is signed with the body, so a receiver that rejects old
 * timestamps cannot be fed a recorded request again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-cdp-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How old a signed request may be when it arrives. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signWebhookBody(secret: string, body: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: 'MALFORMED' | 'STALE' | 'MISMATCH' };

/** For receivers (and our tests): checks the HMAC in constant time and the timestamp's age, both ways. */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureCheck {
  const parts = new Map((header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'MALFORMED' };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'STALE' };
  const expected = signWebhookBody(secret, body, timestamp).split('v1=')[1]!;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex')) ? { ok: true, timestamp } : { ok: false, reason: 'MISMATCH' };
}
