/**
 * Profile rules: `upsertPeople` (validation per record, then the identity graph
 * for the valid ones in one batch) and the profile queries. Any caller reads;
 * writing needs the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { identityKey } from '../../lib/identity/namespaces.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import { decodeCursor, encodeCursor, toConnection, type Connection } from '../../lib/subgraph/connection.js';
import { parsePageArgs } from '../../lib/subgraph/pagination.js';
import type { CurrentViews } from './currentViews.js';
import type { MergeRecord } from './identityGraph.js';
import { normalisePerson, normalisePersonIdentity, type PersonInput, type PersonRecordInput } from './personInput.js';
import type { PersonWriter, ProfileRepositories } from './personWriter.js';
import type { ProfileRecord } from './profileView.js';

export interface PersonUpsertResult {
  index: number;
  status: RecordStatus;
  profile: ProfileRecord | null;
  error: RecordError | null;
}

const isMergeCursor = (value: unknown): value is { t: number; id: string } =>
  typeof value === 'object' && value !== null && Number.isFinite((value as { t?: unknown }).t) && typeof (value as { id?: unknown }).id === 'string';

const isProfileCursor = (value: unknown): value is { id: string } =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';

export class ProfileService {
  constructor(
    private readonly repos: ProfileRepositories,
    private readonly writer: PersonWriter,
    private readonly deps: ServiceDeps,
    private readonly views: CurrentViews,
  ) {}

  async upsertPeople(inputs: readonly PersonInput[]): Promise<PersonUpsertResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'people');
    const now = this.deps.now();
    const results: PersonUpsertResult[] = [];
    const valid: Array<{ index: number; record: PersonRecordInput }> = [];
    inputs.forEach((input, index) => {
      const checked = planRecord(() => normalisePerson(input, now));
      if ('error' in checked) results[index] = { index, status: 'REJECTED', profile: null, error: checked.error };
      else valid.push({ index, record: checked.ok });
    });
    if (valid.length > 0) {
      const outcome = await this.writer.apply(valid.map((entry) => entry.record));
      valid.forEach(({ index }, position) => {
        const result = outcome.results[position]!;
        results[index] =
          result.status === 'REJECTED'
            ? { index, status: result.status, profile: null, error: result.error }
            : { index, status: result.status, profile: outcome.resolve(result.profileId) ?? null, error: null };
      });
    }
    return results;
  }

  async findByIdentity(namespace: string, value: string): Promise<ProfileRecord | null> {
    const key = identityKey(normalisePersonIdentity({ namespace, value }, 'identity'));
    return this.views.readOne(() => this.repos.people.findByIdentityKey(key));
  }

  async list(args: { first?: number | null; after?: string | null }): Promise<Connection<ProfileRecord>> {
    const { limit } = parsePageArgs({ first: args.first });
    const after = args.after ? decodeCursor(args.after, isProfileCursor).id : undefined;
    const page = await this.views.read(() => this.repos.people.list(after, limit + 1));
    return toConnection(page, limit, (profile) => encodeCursor({ id: profile.id }));
  }

  /** Merges into the profile or into any profile it absorbed, oldest first: a page of them. */
  async mergeHistory(profile: ProfileRecord, args: { first?: number | null; after?: string | null }): Promise<Connection<MergeRecord>> {
    const { limit } = parsePageArgs({ first: args.first });
    const cursor = args.after ? decodeCursor(args.after, isMergeCursor) : undefined;
    const after = cursor ? { mergedAt: new Date(cursor.t), id: cursor.id } : undefined;
    const page = await this.repos.merges.page([profile.id, ...profile.absorbedIds], after, limit + 1);
    return toConnection(page, limit, (merge) => encodeCursor({ t: merge.mergedAt.getTime(), id: merge.id }));
  }

  /** The first `first` merges (see mergeHistory), as a plain list. */
  async merges(profile: ProfileRecord, first?: number | null): Promise<MergeRecord[]> {
    return (await this.mergeHistory(profile, { first })).edges.map((edge) => edge.node);
  }
}
