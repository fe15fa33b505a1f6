/** Builds a DeliveryOutcome: one result per member, in batch order, counted. */
import type { DeliveryBatch, DeliveryCounts, DeliveryMember, DeliveryOutcome, MemberResult } from './connector.js';
import type { ConnectorFailure } from '../../../lib/connectors/failures.js';

export type Operation = 'add' | 'remove';

/** A member of the batch with its place, so two entries for one member id never share a result. */
export interface BatchEntry {
  operation: Operation;
  index: number;
  member: DeliveryMember;
}

export function entriesOf(batch: Pick<DeliveryBatch, 'adds' | 'removes'>): { adds: BatchEntry[]; removes: BatchEntry[] } {
  return {
    adds: batch.adds.map((member, index) => ({ operation: 'add', index, member })),
    removes: batch.removes.map((member, index) => ({ operation: 'remove', index, member })),
  };
}

/** People who said no to marketing email are never sent (files aside, which carry the consent column). */
export function consentForbids(member: DeliveryMember): boolean {
  return member.memberType === 'PERSON' && member.consentMarketingEmail === 'n';
}

export class OutcomeBuilder {
  private readonly adds: Array<MemberResult | undefined>;
  private readonly removes: Array<MemberResult | undefined>;

  constructor(private readonly batch: Pick<DeliveryBatch, 'adds' | 'removes'>) {
    this.adds = new Array<MemberResult | undefined>(batch.adds.length);
    this.removes = new Array<MemberResult | undefined>(batch.removes.length);
  }

  private set(entry: BatchEntry, result: MemberResult): void {
    (entry.operation === 'add' ? this.adds : this.removes)[entry.index] = result;
  }

  done(entry: BatchEntry): void {
    const memberId = entry.member.memberId;
    this.set(entry, entry.operation === 'add' ? { memberId, status: 'delivered' } : { memberId, status: 'removed' });
  }

  excluded(entry: BatchEntry): void {
    this.set(entry, { memberId: entry.member.memberId, status: 'excluded', reason: 'CONSENT' });
  }

  failed(entry: BatchEntry, code: string, message: string, retryable: boolean): void {
    this.set(entry, { memberId: entry.member.memberId, status: 'failed', operation: entry.operation, code, message, retryable });
  }

  failedWith(entries: readonly BatchEntry[], failure: ConnectorFailure): void {
    for (const entry of entries) this.failed(entry, failure.code, failure.message, failure.retryable);
  }

  build(): DeliveryOutcome {
    const fill = (results: Array<MemberResult | undefined>, members: readonly DeliveryMember[], operation: Operation): MemberResult[] =>
      members.map((member, index) => {
        const result = results[index];
        if (result) return result;
        // Every path records a result; a gap is a bug, reported rather than counted as delivered.
        return { memberId: member.memberId, status: 'failed', operation, code: 'NOT_SENT', message: 'The member was not sent', retryable: true };
      });
    const results = [...fill(this.adds, this.batch.adds, 'add'), ...fill(this.removes, this.batch.removes, 'remove')];
    return { results, counts: countResults(results) };
  }
}

export function countResults(results: readonly MemberResult[]): DeliveryCounts {
  const counts: DeliveryCounts = { delivered: 0, removed: 0, failed: 0, excluded: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
