/**
 * The stored wake-ups of the members the streaming evaluator evaluated lately, remembered as it
 * writes them, so a batch reads only those of members it has not seen. Exact without a stream:
 * a sandbox's wake-ups are written by its partition alone, while it holds the lease, and this
 * lives as long as the partition. Every write goes through here; a write that fails midway
 * leaves the store unknown, so everything is forgotten.
 */
import { MemberMaps } from './memberMaps.js';
import type { StoredWakeUps, WakeUp, WakeUpWrite, WakeUpsRepository } from './wakeUps.repository.js';

/** Wake-ups remembered at most: under 100 bytes each, so ~50 MB at most. */
export const KNOWN_WAKE_UPS_LIMIT = 500_000;

export class KnownWakeUps {
  /** By member: segment id to wake-up time (epoch ms). */
  private readonly members: MemberMaps<number>;

  constructor(
    readonly repository: WakeUpsRepository,
    maxWakeUps = KNOWN_WAKE_UPS_LIMIT,
  ) {
    this.members = new MemberMaps(maxWakeUps, (ids) => repository.ofMembers(ids));
  }

  /** The stored wake-ups of these members: remembered ones from memory, the others with one query. */
  ofMembers(memberIds: readonly string[]): Promise<StoredWakeUps> {
    return this.members.of(memberIds);
  }

  /** Writes what differs from `stored` (as `ofMembers` answered it) and remembers the result; answers the earliest time written. */
  async apply(wanted: readonly WakeUpWrite[], stored: StoredWakeUps): Promise<Date | null> {
    const earliest = await this.forgettingOnFailure(() => this.repository.apply(wanted, stored));
    const changed = new Set<string>();
    for (const write of wanted) {
      const own = stored.get(write.memberId);
      if (!own) continue;
      if (write.at === null) own.delete(write.segmentId);
      else own.set(write.segmentId, write.at.getTime());
      changed.add(write.memberId);
    }
    this.members.resized(stored, changed);
    return earliest;
  }

  /** Removes wake-ups by (segment, member). */
  async remove(pairs: ReadonlyArray<Pick<WakeUp, 'segmentId' | 'memberId'>>): Promise<void> {
    if (pairs.length === 0) return;
    await this.forgettingOnFailure(() => this.repository.remove(pairs));
    const changed = new Map<string, Map<string, number>>();
    for (const { segmentId, memberId } of pairs) {
      const own = this.members.peek(memberId);
      if (own?.delete(segmentId)) changed.set(memberId, own);
    }
    this.members.resized(changed, changed.keys());
  }

  /** Removes every wake-up of a deleted segment (rare: everything remembered is forgotten). */
  async removeSegment(segmentId: string): Promise<void> {
    this.forget();
    await this.repository.removeSegment(segmentId);
  }

  /** Forgets every member: the sandbox's database was dropped, or a write failed. */
  forget(): void {
    this.members.clear();
  }

  private async forgettingOnFailure<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.forget();
      throw error;
    }
  }
}
