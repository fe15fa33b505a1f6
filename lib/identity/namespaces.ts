/**
 * Identity namespaces. `Email` and `ECID` hold people's emails and Experience
 * Cloud ids; the `b2b_*` namespaces hold source keys of people, accounts and
 * opportunities. Custom namespaces are allowed for other identifiers.
 */
import { badInput } from '../errors.js';

export const IdentityNamespace = {
  Email: 'Email',
  ECID: 'ECID',
  Person: 'b2b_person',
  Account: 'b2b_account',
  Opportunity: 'b2b_opportunity',
} as const;

export interface Identity {
  namespace: string;
  value: string;
}

const NAMESPACE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,49}$/;
/** Pragmatic: one @, no spaces, a dot in the domain; what marketing systems accept. */
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,63}$/;

/** Emails are compared trimmed and lowercased; other values trimmed. */
export function normaliseIdentity(identity: Identity): Identity {
  const namespace = identity.namespace.trim();
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw badInput(`Invalid identity namespace ${JSON.stringify(namespace.slice(0, 60))}`, { field: 'namespace' });
  }
  const trimmed = identity.value.trim();
  if (trimmed === '' || trimmed.length > 512) {
    throw badInput(`An identity value in ${namespace} must be 1 to 512 characters`, { field: 'value' });
  }
  if (namespace === IdentityNamespace.Email) return { namespace, value: normaliseEmail(trimmed) };
  return { namespace, value: trimmed };
}

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) throw badInput(`Invalid email ${JSON.stringify(raw.slice(0, 120))}`, { field: 'email' });
  return email;
}

/** One string per identity, for a multikey index and `$in` lookups. */
export function identityKey(identity: Identity): string {
  return `${identity.namespace}:${identity.value}`;
}
