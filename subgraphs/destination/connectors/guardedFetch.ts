/**
 * The fetch every connector uses: before each request, the URL and every
 * address its host resolves to are judged by the address policy
 * (addressPolicy.ts), so a destination that resolved to a public address when it
 * was stored cannot reach a private or metadata one later. Redirects are not
 * followed: a 3xx is answered as it is, never chased to where the policy was
 * not asked. (A resolver that answers differently between this check and the
 * connection is not covered; the check bounds what a stored URL can reach.)
 */
import { ConnectorFailure } from '../../../lib/connectors/failures.js';
import type { FetchFn } from '../../../lib/connectors/http.js';
import { refusedDestination, systemLookup, type AddressPolicy, type Lookup } from './addressPolicy.js';

export const ADDRESS_REFUSED = 'DESTINATION_ADDRESS_REFUSED';

function urlOf(input: Parameters<FetchFn>[0]): URL {
  if (input instanceof URL) return input;
  return new URL(typeof input === 'string' ? input : input.url);
}

export function guardedFetch(fetchFn: FetchFn, policy: AddressPolicy, lookup: Lookup = systemLookup): FetchFn {
  return async (input, init) => {
    const url = urlOf(input);
    const why = await refusedDestination(url, policy, lookup);
    if (why) throw new ConnectorFailure(ADDRESS_REFUSED, `The destination's host ${url.hostname} is ${why}`, false);
    return fetchFn(input, { ...init, redirect: 'manual' });
  };
}
