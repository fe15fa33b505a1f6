/**
 * An activation's mapping as the API takes it: a JSON object whose keys are the
 * destination's field names and whose values are source paths of the member,
 * sent in key order, e.g.
 *
 *   { "email": "workEmail", "firstName": "firstName", "company": "account.name" }
 *
 * Source paths of a person: its fields (`firstName`, `jobTitle`, `workEmail`, ...),
 * `consents.marketingEmail`, `attributes.<key>`, `identities.email`,
 * `identities.ecid`, `id`, and `account.<field>` or `account.attributes.<key>` of
 * its primary account. Of an account: its fields (`name`, `domain`, `industry`,
 * ...), `attributes.<key>` and `id`.
 */
import { badInput } from '../../../lib/errors.js';
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import { ACCOUNT_DOCUMENT_FIELDS } from '../../account/account.view.js';
import { PERSON_DOCUMENT_FIELDS } from '../../profile/profile.view.js';
import type { FieldMapping, MemberType } from '../connectors/index.js';

/** Fields sent per member at most (Marketo's own limit is 50). */
export const MAX_MAPPED_FIELDS = 100;
const ATTRIBUTE_KEY = /^[A-Za-z0-9_-]{1,100}$/;

const plainFields = (fields: readonly string[]) => fields.filter((field) => field !== 'attributes' && field !== 'consents');
export const PERSON_SOURCE_FIELDS: readonly string[] = [...plainFields(PERSON_DOCUMENT_FIELDS), 'consents.marketingEmail', 'identities.email', 'identities.ecid', 'id'];
export const ACCOUNT_SOURCE_FIELDS: readonly string[] = [...plainFields(ACCOUNT_DOCUMENT_FIELDS), 'id'];

/** Whether `path` names something a member of `memberType` has. */
export function isSourcePath(path: string, memberType: MemberType): boolean {
  const fields = memberType === 'PERSON' ? PERSON_SOURCE_FIELDS : ACCOUNT_SOURCE_FIELDS;
  if (fields.includes(path)) return true;
  if (path.startsWith('attributes.')) return ATTRIBUTE_KEY.test(path.slice('attributes.'.length));
  if (memberType === 'PERSON' && path.startsWith('account.')) return isSourcePath(path.slice('account.'.length), 'ACCOUNT') && path !== 'account.id';
  return false;
}

/** The API's mapping object as FieldMappings, checked; BAD_USER_INPUT names each problem. */
export function parseMapping(raw: JsonObject | null | undefined, memberType: MemberType): FieldMapping[] {
  const entries = Object.entries(raw ?? {});
  if (entries.length > MAX_MAPPED_FIELDS) throw badInput(`mapping may name at most ${MAX_MAPPED_FIELDS} fields (got ${entries.length})`, { field: 'mapping' });
  const problems: string[] = [];
  const mapping: FieldMapping[] = [];
  for (const [destination, source] of entries) {
    if (typeof source !== 'string') {
      problems.push(`mapping.${destination} must be a source path such as "firstName" or "account.name"`);
      continue;
    }
    const path = source.trim();
    if (!isSourcePath(path, memberType)) {
      const known = memberType === 'PERSON' ? [...PERSON_SOURCE_FIELDS, 'attributes.<key>', 'account.<field>'] : [...ACCOUNT_SOURCE_FIELDS, 'attributes.<key>'];
      problems.push(`mapping.${destination}: ${JSON.stringify(path)} is not a field of a ${memberType.toLowerCase()} (use one of ${known.join(', ')})`);
      continue;
    }
    mapping.push({ source: path, destination });
  }
  if (problems.length > 0) throw badInput(problems.join('; '), { field: 'mapping', problems });
  return mapping;
}

/** The mapping as the API shows it again: `{ destination: source }`. */
export function mappingObject(mapping: readonly FieldMapping[]): JsonObject {
  return Object.fromEntries(mapping.map((field) => [field.destination, field.source]));
}
