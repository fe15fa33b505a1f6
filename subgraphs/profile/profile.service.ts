/**
 * Profile rules: normalising and validating person records, matching them to an
 * existing profile by identity, and the per-record results of `upsertPeople`.
 * Matching is the simple version (any shared identity); the identity graph with
 * merges arrives in issue #4. Any caller reads; writing needs the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { assertBatchSize, processRecord, type RecordError, type UpsertStatus } from '../../lib/subgraph/recordResults.js';
import { definedFields, normalizeEmail, optionalText } from '../../lib/subgraph/validation.js';
import { IdentityTakenError, type Identity, type PeopleRepository, type PersonFields, type PersonRecord } from './people.repository.js';

export interface IdentityInput {
  namespace: string;
  value: string;
}

export interface PersonInput {
  identities?: IdentityInput[] | null;
  firstName?: string | null;
  lastName?: string | null;
  jobTitle?: string | null;
  workEmail?: string | null;
}

export interface PersonUpsertResult {
  index: number;
  status: UpsertStatus;
  profile: PersonRecord | null;
  error: RecordError | null;
}

export const EMAIL_NAMESPACE = 'Email';
export const MAX_IDENTITIES_PER_RECORD = 50;
const NAMESPACE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const MAX_IDENTITY_VALUE_LENGTH = 512;
const WRITE_ATTEMPTS = 3;

export function normalizeIdentity(input: IdentityInput): Identity {
  const rawNamespace = input.namespace.trim();
  if (!NAMESPACE_PATTERN.test(rawNamespace)) {
    throw badInput(
      `Identity namespace ${JSON.stringify(input.namespace)} is invalid: use 1 to 64 characters, a letter first, then letters, digits, '_', '-', '.' or ':'`,
      { field: 'identities.namespace' },
    );
  }
  const namespace = rawNamespace.toLowerCase() === 'email' ? EMAIL_NAMESPACE : rawNamespace;
  if (namespace === EMAIL_NAMESPACE) return { namespace, value: normalizeEmail(input.value, 'Email identity') };
  const value = input.value.trim();
  if (value === '' || value.length > MAX_IDENTITY_VALUE_LENGTH) {
    throw badInput(`Identity value in namespace ${namespace} must be 1 to ${MAX_IDENTITY_VALUE_LENGTH} characters`, {
      field: 'identities.value',
    });
  }
  return { namespace, value };
}

/** Validates and normalises one record; throws BAD_USER_INPUT saying what to fix. */
export function normalizePerson(input: PersonInput): { identities: Identity[]; fields: PersonFields } {
  // null means "keep the current value", the same as leaving the field out.
  const text = (value: string | null | undefined, field: string) => optionalText(value ?? undefined, field) ?? undefined;
  const workEmail = input.workEmail == null || input.workEmail.trim() === '' ? undefined : normalizeEmail(input.workEmail, 'workEmail');
  const fields = definedFields<PersonFields>({
    firstName: text(input.firstName, 'firstName'),
    lastName: text(input.lastName, 'lastName'),
    jobTitle: text(input.jobTitle, 'jobTitle'),
    workEmail,
  });

  const identities: Identity[] = [];
  const seen = new Set<string>();
  const add = (identity: Identity) => {
    const key = `${identity.namespace}\u0000${identity.value}`;
    if (seen.has(key)) return;
    seen.add(key);
    identities.push(identity);
  };
  for (const identity of input.identities ?? []) add(normalizeIdentity(identity));
  if (workEmail) add({ namespace: EMAIL_NAMESPACE, value: workEmail });

  if (identities.length === 0) {
    throw badInput('A person record needs at least one identity or a workEmail', { field: 'identities' });
  }
  if (identities.length > MAX_IDENTITIES_PER_RECORD) {
    throw badInput(`A person record may carry at most ${MAX_IDENTITIES_PER_RECORD} identities (got ${identities.length})`, {
      field: 'identities',
    });
  }
  return { identities, fields };
}

function identityConflict(profileIds: readonly string[]): DomainError {
  return new DomainError(
    ErrorCode.Conflict,
    `This record's identities belong to different profiles (${profileIds.join(', ')}); send records that match one profile, merging arrives with the identity graph`,
    { details: { profileIds } },
  );
}

export class ProfileService {
  constructor(
    private readonly people: PeopleRepository,
    private readonly deps: ServiceDeps,
  ) {}

  async upsertPeople(inputs: readonly PersonInput[]): Promise<PersonUpsertResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'people');
    await this.people.ensureIndexes();
    const results: PersonUpsertResult[] = [];
    // In order: a later record may match a profile an earlier one created.
    for (const [index, input] of inputs.entries()) {
      const outcome = await processRecord(() => this.upsertOne(input));
      results.push({ index, status: outcome.status, profile: outcome.record, error: outcome.error });
    }
    return results;
  }

  async findByIdentity(namespace: string, value: string): Promise<PersonRecord | null> {
    const [profile] = await this.people.findByAnyIdentity([normalizeIdentity({ namespace, value })], 1);
    return profile ?? null;
  }

  list(args: PageArgs): Promise<PersonRecord[]> {
    return this.people.list(parsePageArgs(args));
  }

  private async upsertOne(input: PersonInput): Promise<{ status: 'CREATED' | 'UPDATED'; record: PersonRecord }> {
    const { identities, fields } = normalizePerson(input);
    // A concurrent writer can take an identity between our read and our write;
    // the unique index catches it and we match again.
    for (let attempt = 1; ; attempt++) {
      const matches = await this.people.findByAnyIdentity(identities, 2);
      if (matches.length > 1) throw identityConflict(matches.map((match) => match.id));
      const now = this.deps.now();
      try {
        if (matches.length === 1) {
          const updated = await this.people.update(matches[0].id, fields, identities, now);
          if (updated) return { status: 'UPDATED', record: updated };
        } else {
          const created = await this.people.insert({
            id: this.deps.ids('prof'),
            identities,
            ...fields,
            createdAt: now,
            updatedAt: now,
          });
          return { status: 'CREATED', record: created };
        }
      } catch (error) {
        if (!(error instanceof IdentityTakenError)) throw error;
        if (attempt >= WRITE_ATTEMPTS) throw identityConflict(matches.map((match) => match.id));
      }
      if (attempt >= WRITE_ATTEMPTS) throw identityConflict(matches.map((match) => match.id));
    }
  }
}
