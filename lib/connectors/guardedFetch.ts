/**
 * The fetch every connector (destinations and sources) uses: before each
 * request, the URL and every address its host resolves to are judged by the
 * address policy (addressPolicy.ts), so a URL that resolved to a public address
 * when it was stored cannot reach a private or metadata one later. Redirects are
 * not followed: a 3xx is answered as it is, never chased to where the policy was
 * not asked. (A resolver that answers differently between this check and the
 * connection is not covered; the check bounds what a stored URL can reach.)
 */
import { ConnectorFailure } from './failures.js';
import type { FetchFn } from './http.js';
import { refusedDestination, systemLookup, type AddressPolicy, type Lookup } from './addressPolicy.js';

/** The failure code of a refused destination request. */
export const ADDRESS_REFUSED = 'DESTINATION_ADDRESS_REFUSED';
/** The failure code of a refused source request. */
export const SOURCE_ADDRESS_REFUSED = 'SOURCE_ADDRESS_REFUSED';

function urlOf(input: Parameters<FetchFn>[0]): URL {
  if (input instanceof URL) return input;
  return new URL(typeof input === 'string' ? input : input.url);
}

/** `refusedCode` names who was refused (ADDRESS_REFUSED for destinations, SOURCE_ADDRESS_REFUSED for sources). */
export function guardedFetch(fetchFn: FetchFn, policy: AddressPolicy, lookup: Lookup = systemLookup, refusedCode = ADDRESS_REFUSED): FetchFn {
  return async (input, init) => {
    const url = urlOf(input);
    const why = await refusedDestination(url, policy, lookup);
    if (why) throw new ConnectorFailure(refusedCode, `The host ${url.hostname} is ${why}`, false);
    return fetchFn(input, { ...init, redirect: 'manual' });
  };
}
