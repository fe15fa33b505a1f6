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
import { isDeepStrictEqual } from 'node:util';
import { identityKey } from '../../lib/identity/namespaces.js';
import type { PersonRecordInput } from './personInput.js';
import { buildProfile, profileIdentities, type Fragment, type MergePolicy, type ProfileRecord } from './profileView.js';

export type GraphStatus = 'CREATED' | 'UPDATED' | 'MERGED';

export interface MergeRecord {
  id: string;
  mergedAt: Date;
  survivorId: string;
  absorbed: Array<{ profileId: string; createdAt: Date; fragmentIds: string[]; absorbedIds: string[] }>;
  /** Fragments the survivor held just before the merge. */
  survivorFragmentIds: string[];
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

/** Whether the fragment already holds every identity and value of the record, each value as of the same time. */
function restates(fragment: Fragment, record: PersonRecordInput): boolean {
  if (record.sourceKey !== undefined && fragment.sourceKey !== record.sourceKey) return false;
  const held = new Set(fragment.identities.map(identityKey));
  if (!record.identities.every((identity) => held.has(identityKey(identity)))) return false;
  const values = new Map(fragment.values.map((field) => [field.path, field]));
  return record.values.every(({ path, value }) => {
    const field = values.get(path);
    return field !== undefined && field.at.getTime() === record.at.getTime() && isDeepStrictEqual(field.value, value);
  });
}

export function applyRecords(state: GraphState, records: readonly PersonRecordInput[], deps: GraphDeps): GraphOutcome {
  const profiles = new Map(state.profiles.map((profile) => [profile.id, profile]));
  const fragments = new Map(state.fragments.map((fragment) => [fragment.id, fragment]));
  const keyOwner = new Map<string, string>();
  for (const profile of state.profiles) for (const key of profile.identityKeys) keyOwner.set(key, profile.id);
  const survivorOf = new Map<string, string>();
  const dirtyFragments = new Set<string>();
  const dirtyProfiles = new Set<string>();
  const deleted = new Map<string, number>();
  const merges: MergeRecord[] = [];
  const results: GraphOutcome['results'] = [];

  // Fragment ids by profile, kept in step with every move, so a batch costs linear time.
  const members = new Map<string, Set<string>>();
  const place = (fragment: Fragment, profileId: string) => {
    members.get(fragment.profileId)?.delete(fragment.id);
    fragment.profileId = profileId;
    let set = members.get(profileId);
    if (!set) members.set(profileId, (set = new Set()));
    set.add(fragment.id);
  };
  for (const fragment of fragments.values()) place(fragment, fragment.profileId);
  const fragmentsOf = (profileId: string) => [...(members.get(profileId) ?? [])].map((id) => fragments.get(id)!);
  const byAge = (a: ProfileRecord, b: ProfileRecord) =>
    a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  for (const record of records) {
    const keys = record.identities.map(identityKey);
    const owners = new Set<string>();
    for (const key of keys) {
      const owner = keyOwner.get(key);
      if (owner) owners.add(owner);
    }
    const existing = fragments.get(record.fragmentId);
    if (existing && profiles.has(existing.profileId)) owners.add(existing.profileId);
    // A record its fragment already says, value for value and time for time (a file imported again), changes
    // nothing when its profile is already the view of its fragments: neither is rewritten. (After a write that
    // lost a race, the fragment may be stored and the profile not: then both are written as usual.)
    if (deps.skipRestated && existing && owners.size === 1 && owners.has(existing.profileId) && restates(existing, record)) {
      const current = profiles.get(existing.profileId)!;
      if (isDeepStrictEqual(buildProfile(current, fragmentsOf(current.id), deps.policy), current)) {
        results.push({ status: 'UPDATED', profileId: current.id });
        continue;
      }
    }

    let status: GraphStatus;
    let survivor: ProfileRecord;
    const previousKeys: string[] = [];
    if (owners.size === 0) {
      status = 'CREATED';
      survivor = {
        id: deps.newProfileId(),
        identities: [],
        identityKeys: [],
        sourceKeys: [],
        absorbedIds: [],
        consents: {},
        createdAt: deps.now,
        updatedAt: deps.now,
      };
      profiles.set(survivor.id, survivor);
    } else {
      const [oldest, ...others] = [...owners].map((id) => profiles.get(id)!).sort(byAge);
      survivor = oldest!;
      previousKeys.push(...survivor.identityKeys);
      status = others.length > 0 ? 'MERGED' : 'UPDATED';
      if (others.length > 0) {
        const bridging = record.identities.filter((identity) => owners.has(keyOwner.get(identityKey(identity)) ?? ''));
        merges.push({
          id: deps.newMergeId(),
          mergedAt: deps.now,
          survivorId: survivor.id,
          absorbed: others.map((other) => ({
            profileId: other.id,
            createdAt: other.createdAt,
            fragmentIds: fragmentsOf(other.id).map((fragment) => fragment.id),
            absorbedIds: other.absorbedIds,
          })),
          survivorFragmentIds: fragmentsOf(survivor.id).map((fragment) => fragment.id),
          bridgingRecord: record.sourceKey ?? record.fragmentId,
          bridgingFragmentId: record.fragmentId,
          bridgingIdentities: bridging.map(({ namespace, value }) => ({ namespace, value })),
          unmergedAt: null,
        });
        const absorbedIds = new Set(survivor.absorbedIds);
        for (const other of others) {
          previousKeys.push(...other.identityKeys);
          for (const fragment of fragmentsOf(other.id)) {
            place(fragment, survivor.id);
            dirtyFragments.add(fragment.id);
          }
          // A set: a retried batch may merge a profile the survivor already lists (its first attempt saved the survivor only).
          for (const id of [other.id, ...other.absorbedIds]) absorbedIds.add(id);
          profiles.delete(other.id);
          dirtyProfiles.delete(other.id);
          // An absorbed profile the batch created itself was never stored: nothing to remove.
          if (other.version !== undefined) deleted.set(other.id, other.version);
          survivorOf.set(other.id, survivor.id);
        }
        survivor = { ...survivor, absorbedIds: [...absorbedIds] };
      }
    }

    const fragment: Fragment = existing ?? {
      id: record.fragmentId,
      profileId: survivor.id,
      identities: [],
      values: [],
      createdAt: deps.now,
      updatedAt: deps.now,
    };
    place(fragment, survivor.id);
    if (record.sourceKey) fragment.sourceKey = record.sourceKey;
    const held = new Set(fragment.identities.map(identityKey));
    for (const identity of record.identities) {
      if (!held.has(identityKey(identity))) fragment.identities.push({ ...identity, addedAt: deps.now });
    }
    for (const { path, value } of record.values) {
      const field = fragment.values.find((candidate) => candidate.path === path);
      if (field) Object.assign(field, { value, at: record.at });
      else fragment.values.push({ path, value, at: record.at });
    }
    fragment.updatedAt = deps.now;
    fragments.set(fragment.id, fragment);
    dirtyFragments.add(fragment.id);

    // Identities beyond the cap leave the graph, oldest first: out of the fragments too, or a recompute would bring them back.
    const group = fragmentsOf(survivor.id);
    const { dropped } = profileIdentities(group);
    if (dropped.length > 0) {
      const gone = new Set(dropped);
      for (const member of group) {
        const kept = member.identities.filter((identity) => !gone.has(identityKey(identity)));
        if (kept.length !== member.identities.length) {
          member.identities = kept;
          dirtyFragments.add(member.id);
        }
      }
    }

    const rebuilt = buildProfile({ ...survivor, updatedAt: deps.now }, group, deps.policy);
    for (const key of previousKeys) if (owners.has(keyOwner.get(key) ?? '')) keyOwner.delete(key);
    for (const key of rebuilt.identityKeys) keyOwner.set(key, rebuilt.id);
    profiles.set(rebuilt.id, rebuilt);
    dirtyProfiles.add(rebuilt.id);
    results.push({ status, profileId: rebuilt.id });
  }

  const finalId = (id: string): string => {
    let current = id;
    while (survivorOf.has(current)) current = survivorOf.get(current)!;
    return current;
  };
  return {
    results: results.map((result) => ({ ...result, profileId: finalId(result.profileId) })),
    writes: {
      fragments: [...dirtyFragments].map((id) => fragments.get(id)!),
      profiles: [...dirtyProfiles].map((id) => profiles.get(id)!),
      deletedProfiles: [...deleted].map(([id, version]) => ({ id, version })),
      merges,
    },
    resolve: (id) => profiles.get(finalId(id)),
  };
}
