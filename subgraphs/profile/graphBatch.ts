/**
 * The identity graph's working state for one batch: the profiles and fragments
 * it read, who owns each identity, what it changed. `applyRecords` drives it one
 * record at a time through the named steps below; the state stays consistent
 * after every step, so a batch costs linear time.
 */
import { isDeepStrictEqual } from 'node:util';
import { identityKey } from '../../lib/identity/namespaces.js';
import type { GraphDeps, GraphOutcome, GraphState, GraphStatus, MergeRecord } from './identityGraph.js';
import type { PersonRecordInput } from './personInput.js';
import { buildProfile, profileIdentities, type Fragment, type ProfileRecord } from './profileView.js';

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

const byAge = (a: ProfileRecord, b: ProfileRecord) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class GraphBatch {
  private readonly profiles: Map<string, ProfileRecord>;
  private readonly fragments: Map<string, Fragment>;
  /** Identity key -> the profile holding it now. */
  private readonly keyOwner = new Map<string, string>();
  /** Fragment ids by profile, kept in step with every move. */
  private readonly members = new Map<string, Set<string>>();
  /** Absorbed profile -> the profile that absorbed it. */
  private readonly survivorOf = new Map<string, string>();
  private readonly dirtyFragments = new Set<string>();
  private readonly dirtyProfiles = new Set<string>();
  /** Stored profiles merged away, with the version they were read at. */
  private readonly deleted = new Map<string, number>();
  private readonly merges: MergeRecord[] = [];
  private readonly results: GraphOutcome['results'] = [];

  constructor(
    state: GraphState,
    private readonly deps: GraphDeps,
  ) {
    this.profiles = new Map(state.profiles.map((profile) => [profile.id, profile]));
    this.fragments = new Map(state.fragments.map((fragment) => [fragment.id, fragment]));
    for (const profile of state.profiles) for (const key of profile.identityKeys) this.keyOwner.set(key, profile.id);
    for (const fragment of this.fragments.values()) this.place(fragment, fragment.profileId);
  }

  /** The profiles holding any of the record's identities, or its own fragment. */
  ownersOf(record: PersonRecordInput): Set<string> {
    const owners = new Set<string>();
    for (const identity of record.identities) {
      const owner = this.keyOwner.get(identityKey(identity));
      if (owner) owners.add(owner);
    }
    const existing = this.fragments.get(record.fragmentId);
    if (existing && this.profiles.has(existing.profileId)) owners.add(existing.profileId);
    return owners;
  }

  /**
   * A record its fragment already says, value for value and time for time (a file imported again), changes
   * nothing when its profile is already the view of its fragments: neither is rewritten, and the record
   * answers UPDATED. (After a write that lost a race, the fragment may be stored and the profile not: then
   * both are written as usual.)
   */
  isRestated(record: PersonRecordInput, owners: ReadonlySet<string>): boolean {
    const existing = this.fragments.get(record.fragmentId);
    if (!existing || owners.size !== 1 || !owners.has(existing.profileId) || !restates(existing, record)) return false;
    const current = this.profiles.get(existing.profileId)!;
    if (!isDeepStrictEqual(buildProfile(current, this.fragmentsOf(current.id), this.deps.policy), current)) return false;
    this.results.push({ status: 'UPDATED', profileId: current.id });
    return true;
  }

  /** The profile the record lands in: a new one, its one owner, or the oldest owner with the others merged into it. */
  joinOrMerge(record: PersonRecordInput, owners: ReadonlySet<string>): { status: GraphStatus; survivor: ProfileRecord; previousKeys: string[] } {
    if (owners.size === 0) return { status: 'CREATED', survivor: this.createProfile(), previousKeys: [] };
    const [oldest, ...others] = [...owners].map((id) => this.profiles.get(id)!).sort(byAge);
    const previousKeys = [...oldest!.identityKeys];
    if (others.length === 0) return { status: 'UPDATED', survivor: oldest!, previousKeys };
    const survivor = this.merge(record, owners, oldest!, others);
    for (const other of others) previousKeys.push(...other.identityKeys);
    return { status: 'MERGED', survivor, previousKeys };
  }

  /** Adds the record's identities and values to its fragment, which joins the survivor. */
  applyFragment(record: PersonRecordInput, survivorId: string): void {
    const { now } = this.deps;
    const fragment: Fragment = this.fragments.get(record.fragmentId) ?? {
      id: record.fragmentId,
      profileId: survivorId,
      identities: [],
      values: [],
      createdAt: now,
      updatedAt: now,
    };
    this.place(fragment, survivorId);
    if (record.sourceKey) fragment.sourceKey = record.sourceKey;
    const held = new Set(fragment.identities.map(identityKey));
    for (const identity of record.identities) {
      if (!held.has(identityKey(identity))) fragment.identities.push({ ...identity, addedAt: now });
    }
    for (const { path, value } of record.values) {
      const field = fragment.values.find((candidate) => candidate.path === path);
      if (field) Object.assign(field, { value, at: record.at });
      else fragment.values.push({ path, value, at: record.at });
    }
    fragment.updatedAt = now;
    this.fragments.set(fragment.id, fragment);
    this.dirtyFragments.add(fragment.id);
  }

  /** Identities beyond the cap leave the graph, oldest first: out of the fragments too, or a recompute would bring them back. */
  capIdentities(profileId: string): void {
    const group = this.fragmentsOf(profileId);
    const { dropped } = profileIdentities(group);
    if (dropped.length === 0) return;
    const gone = new Set(dropped);
    for (const member of group) {
      const kept = member.identities.filter((identity) => !gone.has(identityKey(identity)));
      if (kept.length !== member.identities.length) {
        member.identities = kept;
        this.dirtyFragments.add(member.id);
      }
    }
  }

  /** Recomputes the survivor's view from its fragments and moves identity ownership to it. */
  rebuild(survivor: ProfileRecord, owners: ReadonlySet<string>, previousKeys: readonly string[], status: GraphStatus): void {
    const rebuilt = buildProfile({ ...survivor, updatedAt: this.deps.now }, this.fragmentsOf(survivor.id), this.deps.policy);
    for (const key of previousKeys) if (owners.has(this.keyOwner.get(key) ?? '')) this.keyOwner.delete(key);
    for (const key of rebuilt.identityKeys) this.keyOwner.set(key, rebuilt.id);
    this.profiles.set(rebuilt.id, rebuilt);
    this.dirtyProfiles.add(rebuilt.id);
    this.results.push({ status, profileId: rebuilt.id });
  }

  outcome(): GraphOutcome {
    const finalId = (id: string): string => {
      let current = id;
      while (this.survivorOf.has(current)) current = this.survivorOf.get(current)!;
      return current;
    };
    return {
      results: this.results.map((result) => ({ ...result, profileId: finalId(result.profileId) })),
      writes: {
        fragments: [...this.dirtyFragments].map((id) => this.fragments.get(id)!),
        profiles: [...this.dirtyProfiles].map((id) => this.profiles.get(id)!),
        deletedProfiles: [...this.deleted].map(([id, version]) => ({ id, version })),
        merges: this.merges,
      },
      resolve: (id) => this.profiles.get(finalId(id)),
    };
  }

  private createProfile(): ProfileRecord {
    const { now } = this.deps;
    const profile: ProfileRecord = {
      id: this.deps.newProfileId(),
      identities: [],
      identityKeys: [],
      sourceKeys: [],
      absorbedIds: [],
      consents: {},
      createdAt: now,
      updatedAt: now,
    };
    this.profiles.set(profile.id, profile);
    return profile;
  }

  /** Moves the others' fragments into the oldest owner and records the merge, so it can be explained and undone. */
  private merge(record: PersonRecordInput, owners: ReadonlySet<string>, survivor: ProfileRecord, others: readonly ProfileRecord[]): ProfileRecord {
    const bridging = record.identities.filter((identity) => owners.has(this.keyOwner.get(identityKey(identity)) ?? ''));
    this.merges.push({
      id: this.deps.newMergeId(),
      mergedAt: this.deps.now,
      survivorId: survivor.id,
      absorbed: others.map((other) => ({
        profileId: other.id,
        createdAt: other.createdAt,
        fragmentIds: this.fragmentsOf(other.id).map((fragment) => fragment.id),
        absorbedIds: other.absorbedIds,
      })),
      bridgingRecord: record.sourceKey ?? record.fragmentId,
      bridgingFragmentId: record.fragmentId,
      bridgingIdentities: bridging.map(({ namespace, value }) => ({ namespace, value })),
      unmergedAt: null,
    });
    const absorbedIds = new Set(survivor.absorbedIds);
    for (const other of others) {
      for (const fragment of this.fragmentsOf(other.id)) {
        this.place(fragment, survivor.id);
        this.dirtyFragments.add(fragment.id);
      }
      // A set: a retried batch may merge a profile the survivor already lists (its first attempt saved the survivor only).
      for (const id of [other.id, ...other.absorbedIds]) absorbedIds.add(id);
      this.profiles.delete(other.id);
      this.dirtyProfiles.delete(other.id);
      // An absorbed profile the batch created itself was never stored: nothing to remove.
      if (other.version !== undefined) this.deleted.set(other.id, other.version);
      this.survivorOf.set(other.id, survivor.id);
    }
    return { ...survivor, absorbedIds: [...absorbedIds] };
  }

  private place(fragment: Fragment, profileId: string): void {
    this.members.get(fragment.profileId)?.delete(fragment.id);
    fragment.profileId = profileId;
    let set = this.members.get(profileId);
    if (!set) this.members.set(profileId, (set = new Set()));
    set.add(fragment.id);
  }

  private fragmentsOf(profileId: string): Fragment[] {
    return [...(this.members.get(profileId) ?? [])].map((id) => this.fragments.get(id)!);
  }
}
