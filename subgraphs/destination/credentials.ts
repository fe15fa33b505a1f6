/**
 * Destination credentials: accepted on create and update, stored, never returned.
 * All handling of the stored form lives here, so encrypting them at rest
 * (AES-256-GCM, a later issue) is a change to this module alone: `sealCredentials`
 * will encrypt, `openCredentials` decrypt, and `scheme` tells the two apart.
 */
import type { JsonObject } from '../../lib/subgraph/scalars.js';

export interface SealedCredentials {
  scheme: 'plain-v1';
  data: JsonObject;
}

export async function sealCredentials(credentials: JsonObject): Promise<SealedCredentials> {
  return { scheme: 'plain-v1', data: credentials };
}

/** For connectors (activation jobs) only; never for an API response. */
export async function openCredentials(sealed: SealedCredentials): Promise<JsonObject> {
  switch (sealed.scheme) {
    case 'plain-v1':
      return sealed.data;
  }
}
