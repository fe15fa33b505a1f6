/**
 * Members as connectors take them: identities (email, ECID, source keys), the
 * values the mapping names, and the person's marketing-email consent, read in
 * one batch through the profile and account views. A member that no longer
 * exists comes back with no identities, which connectors refuse to add and
 * treat as already removed.
 */
import type { Db } from 'mongodb';
import { comparePreferredLinks, findAccounts, findLinksOfPeople, type RecordView } from '../../account/account.view.js';
import { findPeople, type PersonView } from '../../profile/profile.view.js';
import type { AttributeValue, DeliveryMember, FieldMapping, MemberType } from '../connectors/index.js';

type Identities = Record<string, string>;

/** A stored value as a connector field: dates as ISO text, lists and maps as JSON text. */
function attributeValue(value: unknown): AttributeValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/** The value at a dotted path of a document's fields (`attributes.tier`, `consents.marketingEmail`). */
function valueAt(fields: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = fields;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function personIdentities(person: PersonView): Identities {
  const identities: Identities = {};
  let sourceKeys = 0;
  for (const key of person.identityKeys) {
    const colon = key.indexOf(':');
    const namespace = key.slice(0, colon);
    const value = key.slice(colon + 1);
    if (namespace === 'Email') identities.email ??= value;
    else if (namespace === 'ECID') identities.ecid ??= value;
    // Every source key: a Marketo one of the destination's instance names the lead without a lookup.
    else if (namespace === 'b2b_person') identities[sourceKeys++ === 0 ? 'b2b_person' : `b2b_person_${sourceKeys}`] = value;
  }
  const workEmail = person.fields.workEmail;
  if (!identities.email && typeof workEmail === 'string' && workEmail.trim()) identities.email = workEmail.trim().toLowerCase();
  return identities;
}

async function primaryAccounts(db: Db, people: readonly PersonView[]): Promise<Map<string, RecordView>> {
  const links = await findLinksOfPeople(db, 'accounts', people.flatMap((person) => person.linkKeys));
  const byKey = new Map<string, typeof links>();
  for (const link of links) byKey.set(link.personKey, [...(byKey.get(link.personKey) ?? []), link]);
  const result = new Map<string, RecordView>();
  for (const person of people) {
    const primary = person.linkKeys
      .flatMap((key) => byKey.get(key) ?? [])
      .filter((link) => link.isPrimary && link.target)
      .sort(comparePreferredLinks)[0];
    if (primary?.target) result.set(person.id, primary.target);
  }
  return result;
}

function bare(memberId: string, memberType: MemberType): DeliveryMember {
  return { memberId, memberType, identities: {}, attributes: {}, consentMarketingEmail: null };
}

async function people(db: Db, ids: readonly string[], mapping: readonly FieldMapping[]): Promise<Map<string, DeliveryMember>> {
  const found = await findPeople(db, ids);
  const accounts = mapping.some((field) => field.source.startsWith('account.')) ? await primaryAccounts(db, found) : new Map<string, RecordView>();
  const members = new Map<string, DeliveryMember>();
  for (const person of found) {
    const identities = personIdentities(person);
    const attributes: Record<string, AttributeValue> = {};
    for (const { source } of mapping) {
      if (source === 'id') attributes[source] = person.id;
      else if (source.startsWith('identities.')) attributes[source] = identities[source.slice('identities.'.length)] ?? null;
      else if (source.startsWith('account.')) attributes[source] = attributeValue(valueAt(accounts.get(person.id)?.fields ?? {}, source.slice('account.'.length)));
      else attributes[source] = attributeValue(valueAt(person.fields, source));
    }
    const consent = valueAt(person.fields, 'consents.marketingEmail');
    members.set(person.id, {
      memberId: person.id,
      memberType: 'PERSON',
      identities,
      attributes,
      consentMarketingEmail: consent === 'n' || consent === 'y' ? consent : null,
    });
  }
  return members;
}

async function accounts(db: Db, ids: readonly string[], mapping: readonly FieldMapping[]): Promise<Map<string, DeliveryMember>> {
  const found = await findAccounts(db, ids);
  const members = new Map<string, DeliveryMember>();
  for (const account of found) {
    // LinkedIn's company lists match by name and domain, whatever the mapping says.
    const attributes: Record<string, AttributeValue> = { name: attributeValue(account.fields.name), domain: attributeValue(account.fields.domain) };
    for (const { source } of mapping) attributes[source] = source === 'id' ? account.id : attributeValue(valueAt(account.fields, source));
    const domain = account.fields.domain;
    members.set(account.id, {
      memberId: account.id,
      memberType: 'ACCOUNT',
      identities: typeof domain === 'string' && domain.trim() ? { domain: domain.trim().toLowerCase() } : {},
      attributes,
    });
  }
  return members;
}

/** Members in the order of `ids`, resolved in one batch. */
export async function resolveMembers(db: Db, memberType: MemberType, ids: readonly string[], mapping: readonly FieldMapping[]): Promise<DeliveryMember[]> {
  if (ids.length === 0) return [];
  const unique = [...new Set(ids)];
  const found = memberType === 'PERSON' ? await people(db, unique, mapping) : await accounts(db, unique, mapping);
  return ids.map((id) => found.get(id) ?? bare(id, memberType));
}
