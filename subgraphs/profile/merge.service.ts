/**
 * Undoing merges and the sandbox's merge policy. `unmergeProfile` moves the
 * fragments an absorbed profile brought back to it and recomputes both sides,
 * writing profiles at the versions it read and starting over when another writer
 * got there first, as batches of records do. `setMergePolicy` stores the policy
 * under a new version and starts its recompute run on the worker
 * (mergePolicy/mergePolicyRun.ts), answering at once.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../lib/errors.js';
import { identityKey } from '../../lib/identity/namespaces.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import type { MergeRecord } from './identityGraph.js';
import type { MergePolicyRunRecord, MergePolicyRunsRepository } from './mergePolicy/mergePolicyRuns.repository.js';
import type { MergePolicyRunScheduler } from './mergePolicy/mergePolicyScheduler.js';
import type { PersonWriter, ProfileRepositories } from './personWriter.js';
import { buildProfile, type Fragment, type MergePolicy, type MergePolicyKind, type ProfileRecord } from './profileView.js';
import { retryOnConflict } from './retryOnConflict.js';

export interface MergePolicyInput {
  kind: MergePolicyKind;
  sourcePriority?: string[] | null;
}

/** A policy as answered by the API: with the run that brings profiles under it, when it was just started. */
export type StoredMergePolicy = MergePolicy & { run?: MergePolicyRunRecord };

const SOURCE = /^([A-Za-z0-9_-]{1,100}\.)?[A-Za-z][A-Za-z0-9_]{0,49}$/;
const MAX_SOURCES = 50;

export function normaliseMergePolicy(input: MergePolicyInput, now: Date): Omit<MergePolicy, 'version'> {
  if (input.kind === 'TIMESTAMP_ORDERED') return { kind: input.kind, sourcePriority: [], updatedAt: now };
  const sources = [...new Set((input.sourcePriority ?? []).map((source) => source.trim()))];
  if (sources.length === 0 || sources.length > MAX_SOURCES) {
    throw badInput(`SOURCE_PRIORITY needs 1 to ${MAX_SOURCES} sources in sourcePriority, highest first`, { field: 'sourcePriority' });
  }
  const bad = sources.find((source) => !SOURCE.test(source));
  if (bad !== undefined) {
    throw badInput(`sourcePriority entry ${JSON.stringify(bad.slice(0, 120))} is invalid: use a sourceType (Salesforce) or instance.sourceType (00D5e000001XyZ.Salesforce)`, {
      field: 'sourcePriority',
    });
  }
  return { kind: input.kind, sourcePriority: sources, updatedAt: now };
}

/**
 * After a split, an identity should sit on one side only. Records that linked the
 * sides (the bridging record, and records that joined the survivor after the
 * merge) lose the identities the other side's own records hold.
 */
function cutBridges(members: readonly Fragment[], originals: ReadonlySet<string>, changed: Set<Fragment>): void {
  const anchored = new Map<string, Set<string>>();
  for (const fragment of members) {
    if (!originals.has(fragment.id)) continue;
    const keys = anchored.get(fragment.profileId) ?? new Set<string>();
    for (const identity of fragment.identities) keys.add(identityKey(identity));
    anchored.set(fragment.profileId, keys);
  }
  for (const fragment of members) {
    if (originals.has(fragment.id)) continue;
    const elsewhere = new Set([...anchored].filter(([side]) => side !== fragment.profileId).flatMap(([, keys]) => [...keys]));
    const kept = fragment.identities.filter((identity) => !elsewhere.has(identityKey(identity)));
    if (kept.length !== fragment.identities.length) {
      fragment.identities = kept;
      changed.add(fragment);
    }
  }
}

/**
 * The fragments the survivor held just before `target`, from what is stored now: those on the
 * survivor's side that `target` did not bring, created before it, and not brought by a later
 * merge still standing (unless that merge absorbed the survivor itself, which carried them
 * along). Merges store only what they moved, so this is worked out here, when one is undone.
 */
function survivorOriginals(members: readonly Fragment[], target: MergeRecord, standing: readonly MergeRecord[]): string[] {
  const brought = new Set(target.absorbed.flatMap((part) => part.fragmentIds));
  const later = standing.slice(standing.indexOf(target) + 1);
  for (const merge of later) {
    for (const part of merge.absorbed) if (part.profileId !== target.survivorId) for (const id of part.fragmentIds) brought.add(id);
  }
  return members
    .filter((fragment) => !brought.has(fragment.id) && fragment.createdAt.getTime() < target.mergedAt.getTime())
    .map((fragment) => fragment.id);
}

export class MergeService {
  constructor(
    private readonly repos: ProfileRepositories,
    private readonly writer: PersonWriter,
    private readonly deps: ServiceDeps,
    private readonly recompute: { runs: MergePolicyRunsRepository; scheduler: MergePolicyRunScheduler },
  ) {}

  mergePolicy(): Promise<MergePolicy> {
    return this.repos.settings.mergePolicy();
  }

  /**
   * Stores the policy under its next version and queues the run that recomputes every profile
   * under it; answers before any profile is rewritten (the API serves the new policy at once).
   */
  async setMergePolicy(input: MergePolicyInput): Promise<StoredMergePolicy> {
    requireRole(this.deps.principal, 'admin');
    const now = this.deps.now();
    const stored = await this.repos.settings.setMergePolicy(normaliseMergePolicy(input, now));
    const run = await this.recompute.runs.insertQueued({
      policyVersion: stored.version,
      policy: { kind: stored.kind, sourcePriority: stored.sourcePriority },
      now,
    });
    await this.recompute.scheduler.schedule({ sandbox: this.deps.principal.sandbox, runId: run.id });
    return { ...stored, run };
  }

  /** A recompute run, or null. */
  mergePolicyRun(id: string): Promise<MergePolicyRunRecord | null> {
    return this.recompute.runs.findById(id);
  }

  /** Returns the surviving profile first, then the profiles restored from it. */
  async unmergeProfile(id: string, mergeId?: string | null): Promise<ProfileRecord[]> {
    requireRole(this.deps.principal, 'editor');
    await this.writer.ensureIndexes();
    return retryOnConflict('Unmerging this profile', () => this.unmergeNow(id, mergeId), this.writer.retryPolicy);
  }

  private async unmergeNow(id: string, mergeId?: string | null): Promise<ProfileRecord[]> {
    const { people, fragments, merges, settings } = this.repos;
    const profile = (await people.findByIds([id]))[0];
    if (!profile) throw notFound('Profile', id);
    const standing = (await merges.findBySurvivors([profile.id, ...profile.absorbedIds])).filter((merge) => !merge.unmergedAt);
    const target = mergeId ? standing.find((merge) => merge.id === mergeId) : standing.at(-1);
    if (!target) {
      if (mergeId) throw notFound('Merge of this profile', mergeId);
      throw new DomainError(ErrorCode.Conflict, `Profile ${JSON.stringify(id)} has no merge to undo`, { details: { id } });
    }

    const now = this.deps.now();
    const policy = await settings.mergePolicy();
    // The absorbed sides too: an attempt that lost a race may have moved their fragments back already.
    const partIds = target.absorbed.map((part) => part.profileId);
    const members = await fragments.findByProfileIds([profile.id, ...partIds]);
    const stored = new Map((await people.findOwnIds(partIds)).map((part) => [part.id, part.version]));
    const changed = new Set<Fragment>();
    const released = new Set<string>();
    const parts: Array<{ id: string; absorbedIds: string[]; createdAt: Date; version?: number }> = [];
    // Records each side had before the merge; the bridging record is not one of them.
    const originals = new Set(target.survivorFragmentIds ?? survivorOriginals(members, target, standing));
    for (const part of target.absorbed) {
      released.add(part.profileId);
      for (const absorbedId of part.absorbedIds) released.add(absorbedId);
      const brought = new Set(part.fragmentIds);
      const own = members.filter((fragment) => brought.has(fragment.id));
      // Its records may have moved on since (a later unmerge); then there is nothing to restore.
      if (own.length === 0) continue;
      for (const fragment of own) {
        if (fragment.profileId !== part.profileId) changed.add(fragment);
        fragment.profileId = part.profileId;
        originals.add(fragment.id);
      }
      const version = stored.get(part.profileId);
      parts.push({ id: part.profileId, absorbedIds: part.absorbedIds, createdAt: part.createdAt, ...(version === undefined ? {} : { version }) });
    }
    originals.delete(target.bridgingFragmentId);
    cutBridges(members, originals, changed);
    for (const fragment of changed) fragment.updatedAt = now;

    const sideOf = (profileId: string) => members.filter((fragment) => fragment.profileId === profileId);
    const survivor = buildProfile(
      { ...profile, absorbedIds: profile.absorbedIds.filter((absorbed) => !released.has(absorbed)), updatedAt: now },
      sideOf(profile.id),
      policy,
    );
    const restored = parts.map((part) => buildProfile({ ...part, updatedAt: now }, sideOf(part.id), policy));
    const moved = [...changed];

    // Fragments first (see PersonWriter); restored profiles are inserted, or replaced at the version read when a lost attempt stored them.
    await fragments.write(moved);
    await people.save([survivor, ...restored]);
    await merges.markUnmerged(target.id, now);
    return [survivor, ...restored];
  }
}
