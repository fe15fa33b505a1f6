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

const isProfileCursor = (value: unknown): value is { id: string } =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';

export class ProfileService {
  constructor(
    private readonly repos: ProfileRepositories,
    private readonly writer: PersonWriter,
    private readonly deps: ServiceDeps,
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
        const { status, profileId } = outcome.results[position]!;
        results[index] = { index, status, profile: outcome.resolve(profileId) ?? null, error: null };
      });
    }
    return results;
  }

  async findByIdentity(namespace: string, value: string): Promise<ProfileRecord | null> {
    return this.repos.people.findByIdentityKey(identityKey(normalisePersonIdentity({ namespace, value }, 'identity')));
  }

  async list(args: { first?: number | null; after?: string | null }): Promise<Connection<ProfileRecord>> {
    const { limit } = parsePageArgs({ first: args.first });
    const after = args.after ? decodeCursor(args.after, isProfileCursor).id : undefined;
    const page = await this.repos.people.list(after, limit + 1);
    return toConnection(page, limit, (profile) => encodeCursor({ id: profile.id }));
  }

  /** Merges into the profile or into any profile it absorbed, oldest first. */
  merges(profile: ProfileRecord): Promise<MergeRecord[]> {
    return this.repos.merges.findBySurvivors([profile.id, ...profile.absorbedIds]);
  }
}
