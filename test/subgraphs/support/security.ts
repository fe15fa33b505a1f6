/**
 * The security settings of the subgraphs a test file starts, and tokens as the
 * gateway would sign them. The secrets are random per test file (each file
 * loads its own copy of this module), so no suite can accept another's tokens.
 */
import { randomBytes } from 'node:crypto';
import { createGatewayTokenSigner, GATEWAY_TOKEN_HEADER } from '../../../lib/auth/gatewayToken.js';
import type { Role } from '../../../lib/auth/roles.js';
import type { SubgraphSecurity } from '../../../lib/subgraph/auth.js';

export { GATEWAY_TOKEN_HEADER };

export function randomSecurity(): SubgraphSecurity {
  return { gatewaySecret: randomBytes(32).toString('base64url'), encryptionKey: randomBytes(32).toString('hex') };
}

export const TEST_SECURITY: SubgraphSecurity = randomSecurity();

const signer = createGatewayTokenSigner(TEST_SECURITY.gatewaySecret);

/** A valid gateway token for this file's subgraphs. */
export function tokenFor(sandbox: string, role: Role = 'admin'): Promise<string> {
  return signer.sign({ sandbox, role, keyId: 'test-key' });
}
