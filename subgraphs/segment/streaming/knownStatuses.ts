/**
 * The membership statuses of the members the streaming evaluator evaluated lately, remembered
 * as it writes them, so a batch reads only those of members it has not seen.
 *
 * While a partition holds its sandbox's lease no other streaming writer writes; the others
 * (batch runs, the expiry of exited memberships, a segment's deletion) reach it on its change
 * stream, which carries every membership change streaming did not write (changeFeed.ts): a
 * member such a change names is read afresh. A batch whose conditional writes all applied
 * leaves its members as it decided them; one where some missed (another writer was first)
 * leaves them unknown, read afresh next time. Bounded by a number of statuses (memberMaps.ts);
 * forgotten whenever the stream starts over.
 */
import type { ChangeDocument } from '../../profile/profileChanges.view.js';
import { MEMBERSHIPS_COLLECTION, type MembershipStatus } from '../memberships.layout.js';
import type { MembershipTransition, MembershipsRepository } from '../memberships/memberships.repository.js';
import { STREAM_RUN_PREFIX } from './layout.js';
import { MemberMaps } from './memberMaps.js';

/** Statuses remembered at most: under 100 bytes each, so ~50 MB at most. */
export const KNOWN_STATUSES_LIMIT = 500_000;

/** Statuses by member, then segment (exited ones included); a member with none has an empty map. */
export type MemberStatuses = Map<string, Map<string, MembershipStatus>>;

const STATUS_AFTER: Record<MembershipTransition['kind'], MembershipStatus> = { enter: 'realized', stay: 'existing', exit: 'exited' };

export class KnownStatuses {
  private readonly members: MemberMaps<MembershipStatus>;

  constructor(memberships: MembershipsRepository, maxStatuses = KNOWN_STATUSES_LIMIT) {
    this.members = new MemberMaps(maxStatuses, (ids) => memberships.statusesOfMembers(ids));
  }

  /** The statuses of these members: remembered ones from memory, the others with one query. */
  ofMembers(memberIds: readonly string[]): Promise<MemberStatuses> {
    return this.members.of(memberIds);
  }

  /** Takes in a batch of the stream's changes: a member whose membership another writer changed is read afresh. */
  observe(changes: readonly ChangeDocument[]): void {
    for (const change of changes) {
      if (change.ns?.coll !== MEMBERSHIPS_COLLECTION) continue;
      const runId = change.fullDocument?.runId;
      if (typeof runId === 'string' && runId.startsWith(STREAM_RUN_PREFIX)) continue;
      const memberId = change.fullDocument?.memberId ?? memberIdOf(change.documentKey?._id);
      if (memberId !== undefined) this.members.forget([String(memberId)]);
    }
  }

  /** Remembers what a batch wrote, when every one of its transitions applied. */
  applied(transitions: readonly MembershipTransition[], statuses: MemberStatuses): void {
    const changed = new Set<string>();
    for (const transition of transitions) {
      const own = statuses.get(transition.memberId);
      if (!own) continue;
      own.set(transition.segmentId, STATUS_AFTER[transition.kind]);
      changed.add(transition.memberId);
    }
    this.members.resized(statuses, changed);
  }

  /** Forgets these members: some of their writes missed, so their statuses are not known. */
  forgetMembers(memberIds: readonly string[]): void {
    this.members.forget(memberIds);
  }

  /** Forgets every member: the stream starts over. */
  forget(): void {
    this.members.clear();
  }
}

/** The member of a membership `_id` (`<segmentId>:<memberId>`; segment ids hold no ':'), for a change without a post-image. */
function memberIdOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}
