/**
 * What becomes of each change a connector was given: delivered (older failures
 * of the member cleared), tried again later with exponential backoff and jitter,
 * or dead-lettered after the attempt limit (at once when the failure is
 * permanent). Nothing is dropped: every failed change is stored one way or the other.
 */
import type { Connector, DeliveryBatch, DeliveryMember, DeliveryOutcome, MemberResult } from '../connectors/index.js';
import { asConnectorFailure } from '../connectors/index.js';
import type { DeliverySettings } from './deliveryEnvironment.js';
import type { ChangeOperation, FailedChange, PendingRetry } from './failedChanges.repository.js';

export interface ChangeEntry {
  member: DeliveryMember;
  operation: ChangeOperation;
}

export interface OutcomePlan {
  retry: PendingRetry[];
  dead: FailedChange[];
  cleared: string[];
}

/** The wait before attempt `attempts + 1`: doubling from the base, capped, half of it random. */
export function retryDelay(attempts: number, settings: DeliverySettings, random: () => number): number {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return exponential / 2 + random() * (exponential / 2);
}

/**
 * Sends a batch; a connector that throws (it should not) fails every member of
 * the batch with its failure rather than losing them.
 */
export async function deliverSafely(connector: Connector, batch: DeliveryBatch): Promise<DeliveryOutcome> {
  try {
    return await connector.deliver(batch);
  } catch (error) {
    const failure = asConnectorFailure(error);
    const failed = (member: DeliveryMember, operation: ChangeOperation): MemberResult => ({
      memberId: member.memberId,
      status: 'failed',
      operation,
      code: failure.code,
      message: failure.message,
      retryable: failure.retryable,
    });
    const results = [...batch.adds.map((m) => failed(m, 'add')), ...batch.removes.map((m) => failed(m, 'remove'))];
    return { results, counts: { delivered: 0, removed: 0, failed: results.length, excluded: 0 } };
  }
}

/** Splits entries into a batch's adds and removes, keeping the order results come back in. */
export function batchParts(entries: readonly ChangeEntry[]): { adds: DeliveryMember[]; removes: DeliveryMember[]; ordered: ChangeEntry[] } {
  const adds = entries.filter((entry) => entry.operation === 'add');
  const removes = entries.filter((entry) => entry.operation === 'remove');
  return { adds: adds.map((entry) => entry.member), removes: removes.map((entry) => entry.member), ordered: [...adds, ...removes] };
}

/**
 * Plans the stored outcome of a batch. `ordered` is the batch's entries in result order;
 * `prior` holds each member's earlier failure, whose attempts continue when it was the same change.
 */
export function planOutcome(
  activationId: string,
  ordered: readonly ChangeEntry[],
  outcome: DeliveryOutcome,
  prior: ReadonlyMap<string, FailedChange>,
  context: { now: Date; settings: DeliverySettings; random: () => number },
): OutcomePlan {
  const plan: OutcomePlan = { retry: [], dead: [], cleared: [] };
  ordered.forEach((entry, index) => {
    const result = outcome.results[index];
    const memberId = entry.member.memberId;
    if (result && result.status !== 'failed') {
      plan.cleared.push(memberId);
      return;
    }
    const failure = result ?? { code: 'NOT_SENT', message: 'The connector returned no result for this member', retryable: true };
    const before = prior.get(memberId);
    const attempts = (before && before.operation === entry.operation ? before.attempts : 0) + 1;
    const change: FailedChange = {
      activationId,
      memberId,
      memberType: entry.member.memberType,
      operation: entry.operation,
      attempts,
      code: failure.code,
      message: failure.message,
      retryable: failure.retryable,
      firstFailedAt: before && before.operation === entry.operation ? before.firstFailedAt : context.now,
      lastFailedAt: context.now,
    };
    if (!failure.retryable || attempts >= context.settings.maxAttempts) plan.dead.push(change);
    else plan.retry.push({ ...change, nextAttemptAt: new Date(context.now.getTime() + retryDelay(attempts, context.settings, context.random)) });
  });
  return plan;
}
