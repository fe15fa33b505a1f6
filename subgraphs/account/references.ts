/**
 * Input references shared by the account subgraph's services: source keys, ids, and
 * person keys. A person is named by a key, never looked up: the profile subgraph
 * owns people, and a link may arrive before its person does.
 */
import { badInput } from '../../lib/errors.js';
import { IdentityNamespace } from '../../lib/identity/namespaces.js';
import { parseSourceKey } from '../../lib/identity/sourceKey.js';

const MAX_ID_LENGTH = 128;
/** Profiles hold at most 50 identities, plus ids merged into them; far fewer than this. */
const MAX_LINK_KEYS = 1000;
const MAX_LINK_KEY_LENGTH = 1024;

/** A trimmed source key, or undefined when left out; BAD_USER_INPUT naming `field` when malformed. */
export function optionalSourceKey(value: string | null | undefined, field: string): string | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  try {
    parseSourceKey(trimmed);
  } catch {
    throw badInput(
      `${field} ${JSON.stringify(value.slice(0, 120))} is not a source key: use "<sourceId>@<instanceId>.<sourceType>", e.g. "1234@123-ABC-456.Marketo"`,
      { field },
    );
  }
  return trimmed;
}

/** Default and largest `first` of the lists on an account or opportunity (people, opportunities, contacts). */
export const DEFAULT_LIST_SIZE = 100;
export const MAX_LIST_SIZE = 500;

/** `first` of a nested list; BAD_USER_INPUT outside 1 to MAX_LIST_SIZE. */
export function listSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_LIST_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_LIST_SIZE) {
    throw badInput(`first must be an integer from 1 to ${MAX_LIST_SIZE} (got ${size})`, { field: 'first' });
  }
  return size;
}

export function optionalId(value: string | null | undefined, field: string): string | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_ID_LENGTH) {
    throw badInput(`${field} must be an id of 1 to ${MAX_ID_LENGTH} characters`, { field });
  }
  return trimmed;
}

/** A reference by id or by source key: exactly one of the two. */
export function oneReference(
  byId: { value: string | null | undefined; field: string },
  bySourceKey: { value: string | null | undefined; field: string },
  required: boolean,
): { id: string } | { sourceKey: string } | undefined {
  const id = optionalId(byId.value, byId.field);
  const sourceKey = optionalSourceKey(bySourceKey.value, bySourceKey.field);
  if (id !== undefined && sourceKey !== undefined) {
    throw badInput(`Send ${byId.field} or ${bySourceKey.field}, not both`, { field: bySourceKey.field });
  }
  if (id !== undefined) return { id };
  if (sourceKey !== undefined) return { sourceKey };
  if (required) throw badInput(`${byId.field} or ${bySourceKey.field} is required`, { field: byId.field });
  return undefined;
}

/** The key a link stores for its person: "id:<profileId>" or "b2b_person:<sourceKey>". */
export function personKey(input: { personId?: string | null; personSourceKey?: string | null }): string {
  const person = oneReference(
    { value: input.personId, field: 'personId' },
    { value: input.personSourceKey, field: 'personSourceKey' },
    true,
  )!;
  return 'id' in person ? `id:${person.id}` : `${IdentityNamespace.Person}:${person.sourceKey}`;
}

/** The profile id a person key names, when it names one by id. */
export function profileIdOf(key: string): string | null {
  return key.startsWith('id:') ? key.slice(3) : null;
}

/**
 * The person keys of a Profile representation: its `linkKeys` (sent by the gateway,
 * which @requires them), or, for a caller that sent only the id, the id's own key.
 */
export function profileLinkKeys(reference: { id: string; linkKeys?: unknown }): string[] {
  const { linkKeys } = reference;
  if (linkKeys === undefined || linkKeys === null) return [`id:${reference.id}`];
  if (
    !Array.isArray(linkKeys) ||
    linkKeys.length > MAX_LINK_KEYS ||
    !linkKeys.every((key) => typeof key === 'string' && key.length <= MAX_LINK_KEY_LENGTH)
  ) {
    throw badInput(`Profile linkKeys must be a list of at most ${MAX_LINK_KEYS} strings of at most ${MAX_LINK_KEY_LENGTH} characters`);
  }
  return linkKeys as string[];
}
