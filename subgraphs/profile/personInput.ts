/**
 * Validation and normalisation of person records and identities, record by
 * record: each failure is a BAD_USER_INPUT DomainError naming the field, which
 * rejects that record only.
 */
import { badInput } from '../../lib/errors.js';
import { IdentityNamespace, identityKey, normaliseEmail, normaliseIdentity, type Identity } from '../../lib/identity/namespaces.js';
import { isSourceKey } from '../../lib/identity/sourceKey.js';
import { parseJsonObject, type JsonObject, type JsonValue } from '../../lib/subgraph/scalars.js';
import { optionalText } from '../../lib/subgraph/validation.js';
import { ATTRIBUTE_PREFIX, CONSENT_PATH, type PersonField } from './profileView.js';

export interface IdentityInput {
  namespace: string;
  value: string;
}

export interface PersonInput {
  sourceKey?: string | null;
  identities?: IdentityInput[] | null;
  firstName?: string | null;
  lastName?: string | null;
  jobTitle?: string | null;
  workEmail?: string | null;
  phone?: string | null;
  country?: string | null;
  leadScore?: number | null;
  leadStatus?: string | null;
  consents?: { marketingEmail?: string | null } | null;
  attributes?: unknown;
  sourceUpdatedAt?: Date | null;
}

/** A valid record, ready for the identity graph. */
export interface PersonRecordInput {
  /** The fragment it writes: `b2b_person:<sourceKey>`, or its first identity's key. */
  fragmentId: string;
  sourceKey?: string;
  identities: Identity[];
  values: Array<{ path: string; value: JsonValue }>;
  /** When the source changed it: orders values under the timestamp-ordered merge policy. */
  at: Date;
}

export const MAX_IDENTITIES_PER_RECORD = 50;

/** Namespaces a person may hold; b2b_account and b2b_opportunity key accounts and deals, not people. */
const PERSON_NAMESPACES = [IdentityNamespace.Email, IdentityNamespace.ECID, IdentityNamespace.Person];

/** Validates one identity of a person or event; namespaces are matched in any case. */
export function normalisePersonIdentity(input: IdentityInput, field = 'identities'): Identity {
  const namespace = PERSON_NAMESPACES.find((known) => known.toLowerCase() === input.namespace.trim().toLowerCase());
  if (!namespace) {
    throw badInput(
      `Unknown identity namespace ${JSON.stringify(input.namespace.slice(0, 60))}: use one of ${PERSON_NAMESPACES.join(', ')}`,
      { field: `${field}.namespace` },
    );
  }
  let identity: Identity;
  try {
    identity = normaliseIdentity({ namespace, value: input.value });
  } catch (error) {
    throw badInput(`${(error as Error).message} (in ${field})`, { field: `${field}.value` });
  }
  if (namespace === IdentityNamespace.Person && !isSourceKey(identity.value)) {
    throw badInput(
      `A b2b_person identity must be a source key "<sourceId>@<instanceId>.<sourceType>" (got ${JSON.stringify(identity.value.slice(0, 120))})`,
      { field: `${field}.value` },
    );
  }
  return identity;
}

/** Custom attributes: a JSON object with keys MongoDB can store (no `$`, `.` or NUL) and bounded size. */
export function normaliseAttributes(value: unknown, field = 'attributes'): JsonObject {
  try {
    return parseJsonObject(value);
  } catch (error) {
    throw badInput(`${field}: ${(error as Error).message}`, { field });
  }
}

function text(value: string | null | undefined, field: string): string | undefined {
  return optionalText(value ?? undefined, field) ?? undefined;
}

export function normalisePerson(input: PersonInput, now: Date): PersonRecordInput {
  const values: Array<{ path: string; value: JsonValue }> = [];
  const set = (path: string, value: JsonValue | undefined) => {
    if (value !== undefined) values.push({ path, value });
  };

  let sourceKey: string | undefined;
  if (input.sourceKey != null) {
    sourceKey = input.sourceKey.trim();
    if (!isSourceKey(sourceKey)) {
      throw badInput(
        `sourceKey ${JSON.stringify(input.sourceKey.slice(0, 120))} is invalid: use "<sourceId>@<instanceId>.<sourceType>", e.g. "1234@123-ABC-456.Marketo"`,
        { field: 'sourceKey' },
      );
    }
  }

  const textFields: Array<[PersonField, string | null | undefined]> = [
    ['firstName', input.firstName],
    ['lastName', input.lastName],
    ['jobTitle', input.jobTitle],
    ['phone', input.phone],
    ['country', input.country],
    ['leadStatus', input.leadStatus],
  ];
  for (const [field, value] of textFields) set(field, text(value, field));

  let workEmail: string | undefined;
  if (input.workEmail != null && input.workEmail.trim() !== '') {
    try {
      workEmail = normaliseEmail(input.workEmail);
    } catch {
      throw badInput(`workEmail ${JSON.stringify(input.workEmail.slice(0, 120))} is not a valid email address; use the form name@example.com`, {
        field: 'workEmail',
      });
    }
    set('workEmail', workEmail);
  }

  if (input.leadScore != null) {
    if (!Number.isFinite(input.leadScore)) throw badInput('leadScore must be a finite number', { field: 'leadScore' });
    set('leadScore', input.leadScore);
  }

  const consent = input.consents?.marketingEmail;
  if (consent != null) {
    const normalised = consent.trim().toLowerCase();
    if (normalised !== 'y' && normalised !== 'n') {
      throw badInput(`consents.marketingEmail must be "y" or "n" (got ${JSON.stringify(consent.slice(0, 20))})`, { field: 'consents.marketingEmail' });
    }
    set(CONSENT_PATH, normalised);
  }

  if (input.attributes != null) {
    for (const [key, value] of Object.entries(normaliseAttributes(input.attributes))) set(`${ATTRIBUTE_PREFIX}${key}`, value);
  }

  const identities: Identity[] = [];
  const seen = new Set<string>();
  const add = (identity: Identity) => {
    const key = identityKey(identity);
    if (seen.has(key)) return;
    seen.add(key);
    identities.push(identity);
  };
  if (sourceKey) add({ namespace: IdentityNamespace.Person, value: sourceKey });
  for (const identity of input.identities ?? []) add(normalisePersonIdentity(identity));
  if (workEmail) add({ namespace: IdentityNamespace.Email, value: workEmail });

  if (identities.length === 0) {
    throw badInput('A person record needs a sourceKey, an identity or a workEmail', { field: 'identities' });
  }
  if (identities.length > MAX_IDENTITIES_PER_RECORD) {
    throw badInput(`A person record may carry at most ${MAX_IDENTITIES_PER_RECORD} identities (got ${identities.length})`, { field: 'identities' });
  }

  return { fragmentId: identityKey(identities[0]!), sourceKey, identities, values, at: input.sourceUpdatedAt ?? now };
}
