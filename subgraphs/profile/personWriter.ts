/**
 * Applies a batch of valid person records to the identity graph: three indexed
 * reads (the batch's existing fragments, the profiles holding its identities,
 * those profiles' fragments), the graph in memory, then one bulk write per collection.
 * Batches of one sandbox are applied one at a time in this process: two batches
 * read and rewrite whole profiles, so overlapping ones (an import's batches in
 * flight together, or two clients) would otherwise lose each other's changes or
 * each make a profile for the same new identity.
 */
import { identityKey } from '../../lib/identity/namespaces.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { FragmentsRepository } from './fragments.repository.js';
import { applyRecords, type GraphOutcome } from './identityGraph.js';
import type { MergesRepository } from './merges.repository.js';
import type { PeopleRepository } from './people.repository.js';
import type { PersonRecordInput } from './personInput.js';
import type { Fragment } from './profileView.js';
import type { SettingsRepository } from './settings.repository.js';

export interface ProfileRepositories {
  people: PeopleRepository;
  fragments: FragmentsRepository;
  merges: MergesRepository;
  settings: SettingsRepository;
}

/** The tail of each sandbox's queue of batches, by database name. */
const queues = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(work);
  const tail = result.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

export class PersonWriter {
  constructor(
    private readonly repos: ProfileRepositories,
    private readonly deps: { now: () => Date; ids: IdGenerator },
  ) {}

  async ensureIndexes(): Promise<void> {
    await Promise.all([this.repos.people.ensureIndexes(), this.repos.fragments.ensureIndexes(), this.repos.merges.ensureIndexes()]);
  }

  async apply(records: readonly PersonRecordInput[]): Promise<GraphOutcome> {
    await this.ensureIndexes();
    return oneAtATime(this.repos.people.databaseName, () => this.applyNow(records));
  }

  private async applyNow(records: readonly PersonRecordInput[]): Promise<GraphOutcome> {
    const { people, fragments, merges, settings } = this.repos;
    const [own, policy] = await Promise.all([fragments.findByIds(records.map((record) => record.fragmentId)), settings.mergePolicy()]);
    const keys = [...new Set(records.flatMap((record) => record.identities.map(identityKey)))];
    const profiles = await people.findByIdentityKeys(keys);
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
      newProfileId: () => this.deps.ids('prof'),
      newMergeId: () => this.deps.ids('mrg'),
    });
    // Fragments first: should the profile write fail, a retry of the batch rebuilds the profiles from them.
    await fragments.write(outcome.writes.fragments);
    await people.write(outcome.writes.profiles, outcome.writes.deletedProfileIds);
    await merges.insert(outcome.writes.merges);
    return outcome;
  }
}
