/**
 * Where the import command sends its requests: GATEWAY_URL when set, else the gateway `npm start`
 * runs, on GATEWAY_PORT (read with the platform's own configuration, so the default is the same).
 */
import { loadConfig } from '../../../../lib/config.js';

export interface GatewayTarget {
  url: string;
  /** Which setting chose it, for the line the command prints. */
  from: string;
}

export function gatewayTarget(env: NodeJS.ProcessEnv): GatewayTarget {
  if (env.GATEWAY_URL) return { url: env.GATEWAY_URL, from: 'GATEWAY_URL' };
  // Only the port matters here; the development mode keeps the platform's other checks (secrets) out of it.
  const port = loadConfig({ CDP_MODE: 'development', GATEWAY_PORT: env.GATEWAY_PORT }).ports.gateway;
  return { url: `http://localhost:${port}/graphql`, from: env.GATEWAY_PORT ? 'GATEWAY_PORT' : 'the default GATEWAY_PORT' };
}
