/**
 * Applies a batch of valid person records to the identity graph: three indexed
 * reads (the batch's existing fragments and the profiles holding its identities,
 * together; then those profiles' fragments), the graph in memory, then one bulk
 * write per collection: inserts for what is new, replacements for what was read,
 * nothing for records that restate their fragments.
 *
 * Correctness across processes comes from versions on profiles and fragments: a
 * batch whose profiles or fragments another writer changed after it read them is
 * refused by the repositories and re-read and re-applied whole (what it had
 * already written is written again on top). In this process, a batch also waits
 * for the batches sharing an identity or a record with it (see batchQueue.ts),
 * which spares the retries such overlaps would otherwise cost.
 */
import { ErrorCode } from '../../lib/errors.js';
import { identityKey } from '../../lib/identity/namespaces.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RecordError } from '../../lib/subgraph/recordResults.js';
import { createBatchQueue } from './batchQueue.js';
import { FragmentsRepository } from './fragments.repository.js';
import { applyRecords, type GraphOutcome, type GraphStatus } from './identityGraph.js';
import type { MergesRepository } from './merges.repository.js';
import { PeopleRepository } from './people.repository.js';
import type { PersonRecordInput } from './personInput.js';
import type { Fragment } from './profileView.js';
import { DEFAULT_RETRY, retryOnConflict, type RetryPolicy } from './retryOnConflict.js';
import type { SettingsRepository } from './settings.repository.js';

export interface ProfileRepositories {
  people: PeopleRepository;
  fragments: FragmentsRepository;
  merges: MergesRepository;
  settings: SettingsRepository;
}

/** MongoDB's largest document (BSON bytes): a record whose profile or fragment would pass it is rejected alone. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** What a batch did, record by record in input order: written, or rejected alone with the reason. */
export interface WriteOutcome {
  results: Array<{ status: GraphStatus; profileId: string; error?: undefined } | { status: 'REJECTED'; profileId: null; error: RecordError }>;
  /** Final profiles by id, absorbed ids included (pointing at their survivor). */
  resolve(profileId: string): ReturnType<GraphOutcome['resolve']>;
}

/** Records of an attempt (positions in it) that would make a stored document too large; nothing was written. */
class TooLargeRecords extends Error {
  constructor(readonly refused: ReadonlyMap<number, RecordError>) {
    super('Records would make stored documents too large');
  }
}

/** Batches applied side by side per sandbox in this process, at most. */
const MAX_BATCHES_RUNNING = 4;
const batches = createBatchQueue(MAX_BATCHES_RUNNING);

export class PersonWriter {
  constructor(
    private readonly repos: ProfileRepositories,
    private readonly deps: { now: () => Date; ids: IdGenerator; retry?: RetryPolicy; maxDocumentBytes?: number },
  ) {}

  /** The retry policy unmerge and recompute share with batches. */
  get retryPolicy(): RetryPolicy {
    return this.deps.retry ?? DEFAULT_RETRY;
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([this.repos.people.ensureIndexes(), this.repos.fragments.ensureIndexes(), this.repos.merges.ensureIndexes()]);
  }

  /**
   * Applies the records; a record that would make its fragment or profile larger than MongoDB
   * stores is rejected (LIMIT_EXCEEDED) and the others applied without it, so one record never
   * fails the batch.
   */
  async apply(records: readonly PersonRecordInput[]): Promise<WriteOutcome> {
    const refused = new Map<number, RecordError>();
    for (;;) {
      const kept = records.flatMap((record, index) => (refused.has(index) ? [] : [{ record, index }]));
      if (kept.length === 0) return { results: records.map((_, index) => rejected(refused.get(index)!)), resolve: () => undefined };
      try {
        const outcome = await this.applyBatch(kept.map((entry) => entry.record));
        const results: WriteOutcome['results'] = records.map((_, index) => (refused.has(index) ? rejected(refused.get(index)!) : (undefined as never)));
        kept.forEach(({ index }, position) => (results[index] = outcome.results[position]!));
        return { results, resolve: outcome.resolve };
      } catch (error) {
        if (!(error instanceof TooLargeRecords)) throw error;
        for (const [position, reason] of error.refused) refused.set(kept[position]!.index, reason);
      }
    }
  }

  private async applyBatch(records: readonly PersonRecordInput[]): Promise<GraphOutcome> {
    await this.ensureIndexes();
    // Only a first attempt may skip records its fragments already say: on a retry they may be this batch's own
    // fragments, stored before its profiles lost the race, and each record still writes its profile once.
    let attempts = 0;
    const keys = [...new Set(records.flatMap((record) => record.identities.map(identityKey)))];
    const touched = new Set([...keys, ...records.map((record) => record.fragmentId)]);
    return batches.run(this.repos.people.databaseName, touched, () =>
      retryOnConflict('Writing these records', () => this.applyNow(records, keys, attempts++ === 0), this.retryPolicy),
    );
  }

  /** One attempt: `keys` are the records' identity keys. */
  private async applyNow(records: readonly PersonRecordInput[], keys: readonly string[], skipRestated: boolean): Promise<GraphOutcome> {
    const { people, fragments, merges, settings } = this.repos;
    const [own, profiles, policy] = await Promise.all([
      fragments.findByIds(records.map((record) => record.fragmentId)),
      people.findByIdentityKeys(keys),
      settings.mergePolicy(),
    ]);
    // A record's profile no longer holding the record's identities (the 50-identity cap dropped them) costs one more query.
    const loaded = new Set(profiles.map((profile) => profile.id));
    const unseen = [...new Set(own.map((fragment) => fragment.profileId))].filter((id) => !loaded.has(id));
    profiles.push(...(await people.findOwnIds(unseen)));
    const members = await fragments.findByProfileIds(profiles.map((profile) => profile.id));
    const all = new Map<string, Fragment>(own.map((fragment) => [fragment.id, fragment]));
    for (const fragment of members) all.set(fragment.id, fragment);

    const outcome = applyRecords({ profiles, fragments: [...all.values()] }, records, {
      now: this.deps.now(),
      policy,
      skipRestated,
      newProfileId: () => this.deps.ids('prof'),
      newMergeId: () => this.deps.ids('mrg'),
    });
    this.checkSizes(records, outcome);
    const absorbed = outcome.writes.deletedProfiles;
    // Fragments first, so a profile version once visible was built only from stored fragments: a writer that
    // reads it reads them too. Then the profiles at the versions read (absorbed ones claimed) and, once the
    // survivor lists them, the absorbed profiles go.
    await fragments.write(outcome.writes.fragments);
    await people.save(outcome.writes.profiles, absorbed);
    await people.remove(absorbed.map(({ id, version }) => ({ id, version: version + 1 })));
    await merges.insert(outcome.writes.merges);
    return outcome;
  }

  /**
   * Throws TooLargeRecords, before anything is written, when a fragment or profile to write is
   * larger than a stored document may be: the records of that fragment, or every record landing
   * in that profile, are refused.
   */
  private checkSizes(records: readonly PersonRecordInput[], outcome: GraphOutcome): void {
    const limit = this.deps.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
    const refused = new Map<number, RecordError>();
    const tooLarge = (what: string, bytes: number): RecordError => ({
      code: ErrorCode.LimitExceeded,
      message: `This record would make ${what} ${bytes} bytes, more than the ${limit} bytes a stored document may hold; send fewer or smaller custom attributes`,
      field: 'attributes',
    });
    for (const fragment of outcome.writes.fragments) {
      const bytes = FragmentsRepository.bytesOver(fragment, limit);
      if (bytes === null) continue;
      records.forEach((record, position) => {
        if (record.fragmentId === fragment.id) refused.set(position, tooLarge('its source record', bytes));
      });
    }
    for (const profile of outcome.writes.profiles) {
      const bytes = PeopleRepository.bytesOver(profile, limit);
      if (bytes === null) continue;
      outcome.results.forEach((result, position) => {
        if (result.profileId === profile.id && !refused.has(position)) refused.set(position, tooLarge(`profile ${profile.id}`, bytes));
      });
    }
    if (refused.size > 0) throw new TooLargeRecords(refused);
  }
}

const rejected = (error: RecordError) => ({ status: 'REJECTED' as const, profileId: null, error });
