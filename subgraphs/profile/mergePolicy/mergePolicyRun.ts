/**
 * A merge policy recompute run: brings every profile of a sandbox under one policy
 * version, a page of profiles at a time, in id order.
 *
 * How profiles stay right while it runs:
 * - Every stored profile carries the `policyVersion` it was computed with, and is always
 *   exactly its fragments under that policy: a profile is never half under two policies.
 * - `setMergePolicy` stores the policy under a new version and answers at once with this
 *   run QUEUED. From then on the profile subgraph's readers compute any profile stored under
 *   an older version with the current policy (currentViews.ts), so the API shows the new
 *   policy at once; readers of the stored documents (segments) see each profile under the
 *   version it records until the run reaches it.
 * - Writers (batches of records, unmerge) always compute with the policy they read, and a
 *   view never replaces one computed under a newer policy (people.repository.ts), so a
 *   profile's version only goes up.
 * - Each page is written at the versions read (a page another writer changed meanwhile is
 *   read and computed again), then checkpointed with its counts in one write: a run resumed
 *   by another worker reads on after the last finished page and counts nothing twice.
 * - After the last page, profiles still under an older version (written by a batch that read
 *   the old policy before it changed) are recomputed too.
 * - A newer policy set while a run goes on ends it SUPERSEDED: the newer run covers every
 *   profile.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../../lib/logger.js';
import type { FragmentsRepository } from '../fragments.repository.js';
import type { MergePolicyRunRecord, MergePolicyRunsRepository } from './mergePolicyRuns.repository.js';
import type { PeopleRepository } from '../people.repository.js';
import { computeUnder, isStale } from '../currentViews.js';
import type { MergePolicy, ProfileRecord } from '../profileView.js';
import { retryOnConflict, type RetryPolicy } from '../retryOnConflict.js';
import type { SettingsRepository } from '../settings.repository.js';

export const DEFAULT_RECOMPUTE_PAGE = 500;
/** Passes over the profiles left under an older policy after the last page; each finds fewer. */
const STRAGGLER_PASSES = 3;

export interface MergePolicyRunDeps {
  people: PeopleRepository;
  fragments: FragmentsRepository;
  settings: SettingsRepository;
  runs: MergePolicyRunsRepository;
  logger: Logger;
  now: () => Date;
  pageSize?: number;
  retry?: RetryPolicy;
  /** After each checkpoint (the job extends its lock here; tests stop a worker here). */
  onPage?: (run: { runId: string; pagesDone: number }) => Promise<void>;
}

/** Whether two views say the same, whatever policy version or write time each records. */
function sameContent(a: ProfileRecord, b: ProfileRecord): boolean {
  const strip = ({ policyVersion: _p, updatedAt: _u, version: _v, ...rest }: ProfileRecord) => rest;
  return isDeepStrictEqual(strip(a), strip(b));
}

/**
 * The profiles of `page` under `policy`: those already under it (or a newer one) are left
 * alone; the others are recomputed from their fragments and written at the versions read.
 * Answers how many changed content. Throws ProfileVersionConflict when another writer got there first.
 */
export async function recomputeProfiles(
  page: readonly ProfileRecord[],
  policy: MergePolicy,
  deps: Pick<MergePolicyRunDeps, 'people' | 'fragments' | 'now'>,
): Promise<number> {
  const stale = page.filter((profile) => isStale(profile, policy));
  if (stale.length === 0) return 0;
  let changed = 0;
  const now = deps.now();
  const views = await computeUnder(stale, policy, deps.fragments);
  const rebuilt = views.map((view, index) => {
    if (sameContent(view, stale[index]!)) return view;
    changed++;
    return { ...view, updatedAt: now };
  });
  await deps.people.save(rebuilt);
  return changed;
}

/** Runs (or resumes) the run `runId` to its end; answers it as it ended, or as found when it was not runnable. */
export async function runMergePolicyRecompute(runId: string, deps: MergePolicyRunDeps): Promise<MergePolicyRunRecord | null> {
  const { runs, people, settings, logger } = deps;
  let run = await runs.findById(runId);
  if (!run || (run.status !== 'QUEUED' && run.status !== 'RUNNING')) return run;
  if (run.status === 'QUEUED') run = (await runs.start(runId, await people.count(), deps.now())) ?? (await runs.findById(runId))!;
  if (run.status !== 'RUNNING') return run;
  await runs.supersedeOlder(run.policyVersion, deps.now());

  const pageSize = deps.pageSize ?? DEFAULT_RECOMPUTE_PAGE;
  let afterId = run.afterId ?? undefined;
  let pagesDone = run.pagesDone;
  for (;;) {
    const current = await settings.mergePolicy();
    if (current.version !== run.policyVersion) {
      logger.info({ runId, policyVersion: run.policyVersion, current: current.version }, 'Merge policy run superseded by a newer policy');
      return runs.finish(runId, 'SUPERSEDED', deps.now());
    }
    const from = afterId;
    const page = await retryOnConflict(
      'Recomputing profiles under the new merge policy',
      async () => {
        const profiles = await people.list(from, pageSize);
        return { profiles, changed: await recomputeProfiles(profiles, current, deps) };
      },
      deps.retry,
    );
    if (page.profiles.length === 0) break;
    afterId = page.profiles.at(-1)!.id;
    await runs.checkpoint(runId, { afterId, profiles: page.profiles.length, changed: page.changed }, deps.now());
    await deps.onPage?.({ runId, pagesDone: ++pagesDone });
  }

  const policy = await settings.mergePolicy();
  if (policy.version !== run.policyVersion) return runs.finish(runId, 'SUPERSEDED', deps.now());
  for (let pass = 0; pass < STRAGGLER_PASSES; pass++) {
    let changed = 0;
    let found = 0;
    for (let after: string | undefined; ; ) {
      const from = after;
      const page = await retryOnConflict(
        'Recomputing profiles written under the old merge policy',
        async () => {
          const profiles = await people.listStale(policy.version, from, pageSize);
          return { profiles, changed: await recomputeProfiles(profiles, policy, deps) };
        },
        deps.retry,
      );
      if (page.profiles.length === 0) break;
      found += page.profiles.length;
      changed += page.changed;
      after = page.profiles.at(-1)!.id;
    }
    await runs.addChanged(runId, changed, deps.now());
    if (found === 0) break;
  }
  const done = await runs.finish(runId, 'SUCCEEDED', deps.now());
  logger.info({ runId, profilesDone: done?.profilesDone, profilesChanged: done?.profilesChanged }, 'Merge policy run succeeded');
  return done;
}
