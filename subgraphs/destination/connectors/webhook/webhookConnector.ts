/**
 * Webhooks: signed JSON batches of enter and exit events,
 * `{ activationId, segmentId, runId, sentAt, events: [{ id, type: 'segment.entered' | 'segment.exited', memberId, ... }] }`.
 * Each request carries an idempotency key derived from its events, so a batch
 * sent again (after a timeout, or by a rerun) can be recognised by the receiver;
 * each event has a stable id too. 5xx, 429 and network errors are retried.
 */
import { createHash } from 'node:crypto';
import type { Connector, ConnectorDeps, DeliveryBatch, DeliveryOutcome } from '../connector.js';
import { asConnectorFailure, httpFailure, parseRetryAfter } from '../../../../lib/connectors/failures.js';
import { send } from '../../../../lib/connectors/http.js';
import { checkMappingShape, mappedAttributes } from '../mapping.js';
import { chunk, consentForbids, entriesOf, OutcomeBuilder, type BatchEntry } from '../outcome.js';
import { withRetries } from '../../../../lib/connectors/retry.js';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signWebhookBody } from './signature.js';

export const WEBHOOK_BATCH_LIMIT = 500;

export interface WebhookConfig {
  url: string;
  signingSecret: string;
  maxBatchSize: number;
}

export function createWebhookConnector(config: WebhookConfig, deps: ConnectorDeps): Connector {
  async function post(payload: Record<string, unknown>, idempotencyKey: string): Promise<void> {
    await withRetries(
      async () => {
        // Signed per attempt: a retry a minute later must not carry a stale timestamp.
        const body = JSON.stringify({ ...payload, sentAt: deps.now().toISOString() });
        const signature = signWebhookBody(config.signingSecret, body, Math.floor(deps.now().getTime() / 1000));
        const headers = { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature, [IDEMPOTENCY_HEADER]: idempotencyKey };
        const answer = await send(deps.fetch, config.url, { method: 'POST', headers, body }, deps.requestTimeoutMs);
        if (answer.status < 200 || answer.status >= 300) {
          throw httpFailure('WEBHOOK', answer.status, `The webhook answered HTTP ${answer.status}`, parseRetryAfter(answer.headers.get('retry-after'), deps.now()));
        }
      },
      {
        maxAttempts: deps.maxAttempts ?? 4,
        sleep: deps.sleep,
        random: deps.random ?? Math.random,
        onRetry: (failure, attempt, delayMs) => deps.logger.warn({ code: failure.code, attempt, delayMs }, 'Webhook delivery failed; retrying'),
      },
    );
  }

  function eventOf(batch: DeliveryBatch, entry: BatchEntry): Record<string, unknown> {
    const { member } = entry;
    const type = entry.operation === 'add' ? 'segment.entered' : 'segment.exited';
    const id = `evt_${digest([batch.activationId, batch.runId, type, member.memberId]).slice(0, 32)}`;
    const base = { id, type, segmentId: batch.segmentId, memberId: member.memberId, memberType: member.memberType };
    // A person who refused marketing email leaves with their id only: no identities, no fields.
    if (consentForbids(member)) return base;
    return { ...base, identities: member.identities, attributes: mappedAttributes(member, batch.mapping) };
  }

  async function deliver(batch: DeliveryBatch): Promise<DeliveryOutcome> {
    const out = new OutcomeBuilder(batch);
    const { adds, removes } = entriesOf(batch);
    const ready: BatchEntry[] = [];
    for (const entry of [...adds, ...removes]) {
      if (entry.operation === 'add' && consentForbids(entry.member)) out.excluded(entry);
      else ready.push(entry);
    }
    for (const part of chunk(ready, config.maxBatchSize)) {
      const events = part.map((entry) => eventOf(batch, entry));
      const idempotencyKey = digest([batch.activationId, batch.runId, ...events.map((event) => String(event.id))]);
      try {
        await post({ activationId: batch.activationId, segmentId: batch.segmentId, runId: batch.runId, events }, idempotencyKey);
        part.forEach((entry) => out.done(entry));
      } catch (error) {
        out.failedWith(part, asConnectorFailure(error));
      }
    }
    return out.build();
  }

  return {
    type: 'WEBHOOK',
    maxBatchSize: config.maxBatchSize,
    async testConnection() {
      try {
        // A signed batch with no events: proves the URL and the shared secret, carries no member.
        await post({ type: 'ping', events: [] }, `ping-${deps.now().getTime()}`);
        return { ok: true };
      } catch (error) {
        const failure = asConnectorFailure(error);
        return { ok: false, code: failure.code, message: failure.message };
      }
    },
    checkActivation: (activation) => checkMappingShape(activation.mapping),
    deliver,
  };
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}
