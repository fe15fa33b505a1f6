/**
 * The identity graph, applied to one batch of records in memory: which profile
 * each record joins, which profiles it merges, and the resulting fragments,
 * profiles and merge records to write. Pure (time and ids injected), so the
 * whole batch costs the caller a few reads and one bulk write per collection.
 *
 * Rules: a record joins the profile holding any of its identities (or its own
 * fragment's profile); a record reaching two or more profiles merges them into
 * the oldest; a profile keeps at most 50 identities, dropping the oldest.
 */
import type { PersonRecordInput } from './personInput.js';
import { GraphBatch } from './graphBatch.js';
import type { Fragment, MergePolicy, ProfileRecord } from './profileView.js';

export type GraphStatus = 'CREATED' | 'UPDATED' | 'MERGED';

/**
 * One merge, stored once: what it moved (the absorbed profiles and their fragments), never the
 * survivor's whole history again, so a chain of merges costs storage linear in what the merges
 * moved. Which fragments the survivor held before the merge is worked out when it is undone
 * (merge.service.ts).
 */
export interface MergeRecord {
  id: string;
  mergedAt: Date;
  survivorId: string;
  absorbed: Array<{ profileId: string; createdAt: Date; fragmentIds: string[]; absorbedIds: string[] }>;
  /** Fragments the survivor held just before the merge: only on merges stored before merges were linear. */
  survivorFragmentIds?: string[];
  bridgingRecord: string;
  /** The bridging record's fragment: unmerge cuts the identities it linked across. */
  bridgingFragmentId: string;
  bridgingIdentities: Array<{ namespace: string; value: string }>;
  unmergedAt: Date | null;
}

export interface GraphState {
  /** Every profile holding an identity or fragment of the batch. */
  profiles: readonly ProfileRecord[];
  /** Every fragment of those profiles, and the batch's own fragments that already exist. */
  fragments: readonly Fragment[];
}

export interface GraphWrites {
  fragments: Fragment[];
  profiles: ProfileRecord[];
  /** Profiles merged away, at the version they were read at. */
  deletedProfiles: Array<{ id: string; version: number }>;
  merges: MergeRecord[];
}

export interface GraphOutcome {
  results: Array<{ status: GraphStatus; profileId: string }>;
  writes: GraphWrites;
  /** Final profiles by id, absorbed ids included (pointing at their survivor). */
  resolve(profileId: string): ProfileRecord | undefined;
}

export interface GraphDeps {
  now: Date;
  policy: MergePolicy;
  /** Leave out records their fragments already say, when their profiles are already up to date (see below). */
  skipRestated?: boolean;
  newProfileId: () => string;
  newMergeId: () => string;
}

/**
 * Applies the batch's records in order, each in named steps: find the profiles
 * owning its identities; skip it when it restates what is stored; create a
 * profile, join one, or merge several into the oldest; apply its fragment; cap
 * the identities; rebuild the profile's view.
 */
export function applyRecords(state: GraphState, records: readonly PersonRecordInput[], deps: GraphDeps): GraphOutcome {
  const batch = new GraphBatch(state, deps);
  for (const record of records) {
    const owners = batch.ownersOf(record);
    if (deps.skipRestated && batch.isRestated(record, owners)) continue;
    const { status, survivor, previousKeys } = batch.joinOrMerge(record, owners);
    batch.applyFragment(record, survivor.id);
    batch.capIdentities(survivor.id);
    batch.rebuild(survivor, owners, previousKeys, status);
  }
  return batch.outcome();
}
