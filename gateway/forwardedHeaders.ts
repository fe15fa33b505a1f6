/**
 * The one place the gateway builds what it forwards to subgraphs: the signed
 * gateway token, nothing else (the API key never leaves the gateway). The same
 * value travels as an HTTP header on every query, mutation and `_entities`
 * fetch, and as graphql-ws `connectionParams` on the subscription websocket to
 * a subgraph (see runtime.ts).
 */
import { GATEWAY_TOKEN_HEADER } from '../lib/auth/gatewayToken.js';
import type { GatewayIdentity } from './authenticate.js';

export const FORWARDED_HEADER_NAMES = [GATEWAY_TOKEN_HEADER] as const;
export type ForwardedHeaderName = (typeof FORWARDED_HEADER_NAMES)[number];
export type ForwardedHeaders = Readonly<Record<ForwardedHeaderName, string>>;

export function buildForwardedHeaders(identity: GatewayIdentity): ForwardedHeaders {
  return { [GATEWAY_TOKEN_HEADER]: identity.gatewayToken };
}
