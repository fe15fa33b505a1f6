/**
 * The merged view of a profile, computed from its fragments (one per source
 * record) and the sandbox's merge policy. Pure: the identity graph and unmerge
 * both recompute profiles with it, so a profile is always exactly what its
 * fragments and the policy say.
 */
import { IdentityNamespace, identityKey, type Identity } from '../../lib/identity/namespaces.js';
import type { JsonObject, JsonValue } from '../../lib/subgraph/scalars.js';

/** A graph holds at most this many identities; the oldest are dropped first (as Adobe does). */
export const MAX_IDENTITIES_PER_PROFILE = 50;

export const PERSON_FIELDS = [
  'firstName',
  'lastName',
  'jobTitle',
  'workEmail',
  'phone',
  'country',
  'leadScore',
  'leadStatus',
] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];

export const CONSENT_PATH = 'consents.marketingEmail';
export const ATTRIBUTE_PREFIX = 'attributes.';

export interface FragmentIdentity extends Identity {
  addedAt: Date;
}

/** One field of one record, with the time its source last changed it. Paths: a PersonField, consents.marketingEmail, attributes.<key>. */
export interface FieldValue {
  path: string;
  value: JsonValue;
  at: Date;
}

/** What one source record (or, without a source key, one anchor identity) says about a person. */
export interface Fragment {
  /** `b2b_person:<sourceKey>`, or the identity key of the record's first identity when it has no source key. */
  id: string;
  profileId: string;
  sourceKey?: string;
  identities: FragmentIdentity[];
  values: FieldValue[];
  createdAt: Date;
  updatedAt: Date;
  /** The stored version this fragment was read at (0: stored before versioning); absent until first stored. */
  version?: number;
}

export type PersonAttributes = { [K in PersonField]?: string | number };

export interface ProfileRecord extends PersonAttributes {
  id: string;
  identities: Identity[];
  /** `<namespace>:<value>` of each identity: the indexed lookup key. */
  identityKeys: string[];
  sourceKeys: string[];
  /** Ids of profiles merged into this one (they resolve here). */
  absorbedIds: string[];
  consents: { marketingEmail?: string };
  attributes?: JsonObject;
  createdAt: Date;
  updatedAt: Date;
  /** The stored version this view was read at (0: stored before versioning); absent until first stored. */
  version?: number;
  /**
   * The version of the merge policy this view was computed with (0: the default policy, or a
   * view stored before policies had versions). See mergePolicy/mergePolicyRun.ts for how views catch up.
   */
  policyVersion?: number;
}

export type MergePolicyKind = 'TIMESTAMP_ORDERED' | 'SOURCE_PRIORITY';

export interface MergePolicy {
  kind: MergePolicyKind;
  sourcePriority: string[];
  updatedAt: Date | null;
  /** Goes up by one each time the policy is set; 0 for the default (and a policy stored before versions). */
  version: number;
}

export const DEFAULT_MERGE_POLICY: MergePolicy = { kind: 'TIMESTAMP_ORDERED', sourcePriority: [], updatedAt: null, version: 0 };

/** Fragments in a stable order: oldest first, then by key. */
export function sortFragments(fragments: readonly Fragment[]): Fragment[] {
  return [...fragments].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The profile's identities, oldest first, each once. Beyond the cap the oldest
 * are returned as `dropped`, so the caller can remove them from the fragments.
 */
export function profileIdentities(fragments: readonly Fragment[]): { kept: FragmentIdentity[]; dropped: string[] } {
  const byKey = new Map<string, { identity: FragmentIdentity; order: number }>();
  let order = 0;
  for (const fragment of sortFragments(fragments)) {
    for (const identity of fragment.identities) {
      const key = identityKey(identity);
      const seen = byKey.get(key);
      if (!seen || identity.addedAt < seen.identity.addedAt) byKey.set(key, { identity, order: seen?.order ?? order });
      order++;
    }
  }
  const all = [...byKey.values()]
    .sort((a, b) => a.identity.addedAt.getTime() - b.identity.addedAt.getTime() || a.order - b.order)
    .map((entry) => entry.identity);
  const overflow = Math.max(0, all.length - MAX_IDENTITIES_PER_PROFILE);
  return { kept: all.slice(overflow), dropped: all.slice(0, overflow).map(identityKey) };
}

function sourceOf(fragment: Fragment): { type: string; instanceType: string } | null {
  if (!fragment.sourceKey) return null;
  const at = fragment.sourceKey.lastIndexOf('@');
  const instanceType = fragment.sourceKey.slice(at + 1);
  return { type: instanceType.slice(instanceType.lastIndexOf('.') + 1), instanceType };
}

/** Lower is stronger. Unlisted sources and records without a source key come after every listed one. */
function priorityRank(fragment: Fragment, policy: MergePolicy): number {
  if (policy.kind !== 'SOURCE_PRIORITY') return 0;
  const source = sourceOf(fragment);
  if (!source) return policy.sourcePriority.length;
  const rank = policy.sourcePriority.findIndex((entry) => entry === source.instanceType || entry === source.type);
  return rank === -1 ? policy.sourcePriority.length : rank;
}

/** The attribute values of the merged view: per path, the winner by policy, then most recent, then latest written. */
export function mergeValues(fragments: readonly Fragment[], policy: MergePolicy): Map<string, JsonValue> {
  const winners = new Map<string, { value: JsonValue; rank: number; at: number; written: number }>();
  for (const fragment of fragments) {
    const rank = priorityRank(fragment, policy);
    const written = fragment.updatedAt.getTime();
    for (const field of fragment.values) {
      if (field.value === null) continue;
      const at = field.at.getTime();
      const best = winners.get(field.path);
      const better =
        !best || rank < best.rank || (rank === best.rank && (at > best.at || (at === best.at && written >= best.written)));
      if (better) winners.set(field.path, { value: field.value, rank, at, written });
    }
  }
  return new Map([...winners].map(([path, winner]) => [path, winner.value]));
}

/** Recomputes a profile's view from its fragments. Fragments must already hold no dropped identity. */
export function buildProfile(
  base: { id: string; absorbedIds: string[]; createdAt: Date; updatedAt: Date; version?: number },
  fragments: readonly Fragment[],
  policy: MergePolicy,
): ProfileRecord {
  const identities = profileIdentities(fragments).kept.map(({ namespace, value }) => ({ namespace, value }));
  const sourceKeys = new Set<string>();
  for (const fragment of sortFragments(fragments)) if (fragment.sourceKey) sourceKeys.add(fragment.sourceKey);
  for (const identity of identities) if (identity.namespace === IdentityNamespace.Person) sourceKeys.add(identity.value);

  const profile: ProfileRecord = {
    id: base.id,
    identities,
    identityKeys: identities.map(identityKey),
    sourceKeys: [...sourceKeys],
    absorbedIds: base.absorbedIds,
    consents: {},
    createdAt: base.createdAt,
    updatedAt: base.updatedAt,
  };
  // The version read, so the write replaces only that one.
  if (base.version !== undefined) profile.version = base.version;
  profile.policyVersion = policy.version;
  const attributes: JsonObject = {};
  for (const [path, value] of mergeValues(fragments, policy)) {
    if (path === CONSENT_PATH) profile.consents.marketingEmail = value as string;
    else if (path.startsWith(ATTRIBUTE_PREFIX)) attributes[path.slice(ATTRIBUTE_PREFIX.length)] = value;
    else if ((PERSON_FIELDS as readonly string[]).includes(path)) (profile as unknown as Record<string, JsonValue>)[path] = value;
  }
  if (Object.keys(attributes).length > 0) profile.attributes = attributes;
  return profile;
}

/** The keys another subgraph may store a person under (see Profile.linkKeys). */
export function linkKeys(profile: ProfileRecord): string[] {
  return [
    `id:${profile.id}`,
    ...profile.absorbedIds.map((id) => `id:${id}`),
    ...profile.sourceKeys.map((key) => `${IdentityNamespace.Person}:${key}`),
  ];
}
