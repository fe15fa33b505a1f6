/**
 * The events of the people the streaming evaluator evaluated lately, kept in memory and
 * followed on its change stream as they arrive, so a change to a person costs reading the
 * person, not the person's whole history again.
 *
 * Per identity key: every event of that key at or after `since`, as of the stream's position or
 * later. A key read from the database is complete as of that read; an insert on the stream adds
 * its event to a known key (an event already read is the same event: kept once, by id). An event
 * sent again replaces the stored one, perhaps under another identity key: that is rare, and
 * everything known is forgotten rather than patched. Events the stream adds are kept whatever their
 * time, so a key may hold events older than `since`, which the finder contract allows.
 *
 * Bounded by a number of events, least recently used keys first out. Forgotten whenever the
 * stream starts over (lost history, a dropped database): what it skipped is unknown.
 */
import { LRUCache } from 'lru-cache';
import type { Db } from 'mongodb';
import { findEventsOfIdentityKeys, type EventFinder, type KeyedEventView } from '../../profile/profile.view.js';
import { eventChange, type ChangeDocument } from '../../profile/profileChanges.view.js';

/** Events kept at most: about 300 bytes each, so ~100 MB at most. */
export const KNOWN_EVENTS_LIMIT = 300_000;

interface KnownKey {
  /** The earliest event time (epoch ms) the key is complete from; -Infinity for every event. */
  since: number;
  events: Map<string, KeyedEventView>;
}

export class KnownEvents {
  private readonly keys: LRUCache<string, KnownKey>;

  constructor(
    private readonly db: Db,
    maxEvents = KNOWN_EVENTS_LIMIT,
  ) {
    this.keys = new LRUCache<string, KnownKey>({ maxSize: maxEvents, sizeCalculation: (known) => known.events.size + 1 });
  }

  /** Takes in a batch of the stream's changes, in stream order, before the members they affect are evaluated. */
  observe(changes: readonly ChangeDocument[]): void {
    for (const change of changes) {
      const effect = eventChange(change);
      if (effect === null) continue;
      if (effect.kind === 'rewritten') {
        this.forget();
        continue;
      }
      const known = this.keys.get(effect.event.identityKey);
      if (!known) continue;
      known.events.set(effect.event.id, effect.event);
      this.keys.set(effect.event.identityKey, known); // its size changed
    }
  }

  /** Forgets every key: the stream starts over. */
  forget(): void {
    this.keys.clear();
  }

  /** Events held for the keys now (for tests and metrics). */
  get size(): number {
    return this.keys.calculatedSize;
  }

  /** The finder the member loader uses: known keys from memory, the others with one query (and known from then on). */
  readonly find: EventFinder = async (identityKeys, since) => {
    const sinceMs = since === null ? Number.NEGATIVE_INFINITY : since.getTime();
    const found: KeyedEventView[] = [];
    const unknown: string[] = [];
    for (const key of identityKeys) {
      const known = this.keys.get(key);
      if (known && known.since <= sinceMs) for (const event of known.events.values()) found.push(event);
      else unknown.push(key);
    }
    if (unknown.length === 0) return found;
    const read = await findEventsOfIdentityKeys(this.db, unknown, since);
    const byKey = new Map(unknown.map((key) => [key, new Map<string, KeyedEventView>()]));
    for (const event of read) {
      byKey.get(event.identityKey)?.set(event.id, event);
      found.push(event);
    }
    for (const [key, events] of byKey) this.keys.set(key, { since: sinceMs, events });
    return found;
  };
}
