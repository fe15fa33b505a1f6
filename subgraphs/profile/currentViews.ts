/**
 * Profiles as the API serves them: under the sandbox's current merge policy. A stored
 * profile computed under an older policy version (its recompute run has not reached it yet,
 * see mergePolicy/mergePolicyRun.ts) is computed here from its fragments with the current policy; others
 * are served as stored. The policy is read once per request, beside the profiles' own query,
 * so a request pays no extra round trip; stale profiles cost one fragments query per batch.
 */
import type { FragmentsRepository } from './fragments.repository.js';
import { buildProfile, type Fragment, type MergePolicy, type ProfileRecord } from './profileView.js';
import type { SettingsRepository } from './settings.repository.js';

/** Whether the profile was computed under an older policy than `policy`. */
export const isStale = (profile: ProfileRecord, policy: MergePolicy): boolean => (profile.policyVersion ?? 0) < policy.version;

/** These profiles computed from their fragments (one query) under `policy`, in order. */
export async function computeUnder(profiles: readonly ProfileRecord[], policy: MergePolicy, fragments: FragmentsRepository): Promise<ProfileRecord[]> {
  if (profiles.length === 0) return [];
  const byProfile = new Map<string, Fragment[]>();
  for (const fragment of await fragments.findByProfileIds(profiles.map((profile) => profile.id))) {
    const list = byProfile.get(fragment.profileId) ?? [];
    list.push(fragment);
    byProfile.set(fragment.profileId, list);
  }
  return profiles.map((profile) => buildProfile(profile, byProfile.get(profile.id) ?? [], policy));
}

export class CurrentViews {
  private policy: Promise<MergePolicy> | undefined;

  constructor(private readonly repos: { settings: SettingsRepository; fragments: FragmentsRepository }) {}

  /** Runs `load` and reads the policy side by side, then brings stale profiles under the policy. */
  async read(load: () => Promise<ProfileRecord[]>): Promise<ProfileRecord[]> {
    const [profiles, policy] = await Promise.all([load(), this.currentPolicy()]);
    return this.under(profiles, policy);
  }

  /** One profile (or none), as `read`. */
  async readOne(load: () => Promise<ProfileRecord | null>): Promise<ProfileRecord | null> {
    const [profile] = await this.read(async () => {
      const found = await load();
      return found ? [found] : [];
    });
    return profile ?? null;
  }

  private currentPolicy(): Promise<MergePolicy> {
    // Once per request: every profile of one answer is under the same policy.
    this.policy ??= this.repos.settings.mergePolicy();
    return this.policy;
  }

  private async under(profiles: ProfileRecord[], policy: MergePolicy): Promise<ProfileRecord[]> {
    const stale = profiles.filter((profile) => isStale(profile, policy));
    if (stale.length === 0) return profiles;
    const computed = new Map((await computeUnder(stale, policy, this.repos.fragments)).map((view) => [view.id, view]));
    return profiles.map((profile) => computed.get(profile.id) ?? profile);
  }
}
