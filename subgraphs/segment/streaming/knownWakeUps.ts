/**
 * The stored wake-ups of the members the streaming evaluator evaluated lately, remembered as it
 * writes them, so a batch reads only those of members it has not seen. Exact without a stream:
 * a sandbox's wake-ups are written by its partition alone, while it holds the lease, and this
 * lives as long as the partition. Every write goes through here; a write that fails midway
 * leaves the store unknown, so everything is forgotten. Bounded by a number of wake-ups, least
 * recently used members first out.
 */
import { LRUCache } from 'lru-cache';
import type { StoredWakeUps, WakeUp, WakeUpWrite, WakeUpsRepository } from './wakeUps.repository.js';

/** Wake-ups remembered at most: under 100 bytes each, so ~50 MB at most. */
export const KNOWN_WAKE_UPS_LIMIT = 500_000;

export class KnownWakeUps {
  /** By member: segment id to wake-up time (epoch ms); an empty map for a member with none. */
  private readonly members: LRUCache<string, Map<string, number>>;

  constructor(
    readonly repository: WakeUpsRepository,
    maxWakeUps = KNOWN_WAKE_UPS_LIMIT,
  ) {
    this.members = new LRUCache<string, Map<string, number>>({ maxSize: maxWakeUps, sizeCalculation: (own) => own.size + 1 });
  }

  /** The stored wake-ups of these members: remembered ones from memory, the others with one query. */
  async ofMembers(memberIds: readonly string[]): Promise<StoredWakeUps> {
    const stored: StoredWakeUps = new Map();
    const unknown: string[] = [];
    for (const id of memberIds) {
      const own = this.members.get(id);
      if (own) stored.set(id, own);
      else unknown.push(id);
    }
    if (unknown.length === 0) return stored;
    for (const [id, own] of await this.repository.ofMembers(unknown)) {
      stored.set(id, own);
      this.members.set(id, own);
    }
    return stored;
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
    // Sizes changed; a member dropped from memory since it was read stays out.
    for (const id of changed) if (this.members.peek(id) === stored.get(id)) this.members.set(id, stored.get(id)!);
    return earliest;
  }

  /** Removes wake-ups by (segment, member). */
  async remove(pairs: ReadonlyArray<Pick<WakeUp, 'segmentId' | 'memberId'>>): Promise<void> {
    if (pairs.length === 0) return;
    await this.forgettingOnFailure(() => this.repository.remove(pairs));
    for (const { segmentId, memberId } of pairs) {
      const own = this.members.peek(memberId);
      if (own?.delete(segmentId)) this.members.set(memberId, own);
    }
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
