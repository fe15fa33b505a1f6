/**
 * Per-member maps (segment id to a value) that the streaming evaluator remembers between
 * batches: read through on a miss, with one query for all the members it does not hold, and
 * bounded by the number of entries, least recently used members first out. A member with
 * nothing stored is held as an empty map, so it is not asked for again.
 */
import { LRUCache } from 'lru-cache';

export type MemberMap<V> = Map<string, V>;

export class MemberMaps<V> {
  private readonly members: LRUCache<string, MemberMap<V>>;

  constructor(
    maxEntries: number,
    /** Every one of `ids`' stored maps (empty for a member with none): one query. */
    private readonly read: (ids: string[]) => Promise<Map<string, MemberMap<V>>>,
  ) {
    this.members = new LRUCache<string, MemberMap<V>>({ maxSize: maxEntries, sizeCalculation: (own) => own.size + 1 });
  }

  /** The maps of these members: those held from memory, the others read (and held from then on). */
  async of(memberIds: readonly string[]): Promise<Map<string, MemberMap<V>>> {
    const maps = new Map<string, MemberMap<V>>();
    const unknown: string[] = [];
    for (const id of memberIds) {
      const own = this.members.get(id);
      if (own) maps.set(id, own);
      else unknown.push(id);
    }
    if (unknown.length === 0) return maps;
    const read = await this.read(unknown);
    for (const id of unknown) {
      const own = read.get(id) ?? new Map<string, V>();
      maps.set(id, own);
      this.members.set(id, own);
    }
    return maps;
  }

  /** The held map of a member, to change in place (then `resized`); undefined when not held. */
  peek(memberId: string): MemberMap<V> | undefined {
    return this.members.peek(memberId);
  }

  /** After maps handed out by `of` or `peek` changed in place: their sizes are counted again; a member dropped since stays out. */
  resized(maps: ReadonlyMap<string, MemberMap<V>>, memberIds: Iterable<string>): void {
    for (const id of memberIds) {
      const own = maps.get(id);
      if (own && this.members.peek(id) === own) this.members.set(id, own);
    }
  }

  forget(memberIds: Iterable<string>): void {
    for (const id of memberIds) this.members.delete(id);
  }

  clear(): void {
    this.members.clear();
  }
}
