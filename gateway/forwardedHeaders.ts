/**
 * The one place the gateway builds what it forwards to subgraphs. The same
 * values travel as HTTP headers on every query, mutation and `_entities` fetch,
 * and as graphql-ws `connectionParams` on the subscription websocket to a
 * subgraph (see runtime.ts).
 */
import { AUTHORIZATION_HEADER, SANDBOX_HEADER, type GatewayIdentity } from './authenticate.js';

export const FORWARDED_HEADER_NAMES = [SANDBOX_HEADER, AUTHORIZATION_HEADER] as const;
export type ForwardedHeaderName = (typeof FORWARDED_HEADER_NAMES)[number];
export type ForwardedHeaders = Readonly<Partial<Record<ForwardedHeaderName, string>>>;

export function buildForwardedHeaders(identity: GatewayIdentity): ForwardedHeaders {
  return {
    [SANDBOX_HEADER]: identity.sandbox,
    ...(identity.authorization ? { [AUTHORIZATION_HEADER]: identity.authorization } : {}),
  };
}
