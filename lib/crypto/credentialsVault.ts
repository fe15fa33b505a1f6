/**
 * Credentials of destinations and sources: accepted on create and update, stored
 * encrypted (AES-256-GCM, secretBox.ts, key from `config.security`), never
 * returned. All handling of the stored form lives here; `scheme` names it, so
 * the key or algorithm can be rotated later.
 */
import { createSecretBox, parseEncryptionKey } from './secretBox.js';
import { parseJsonObject, type JsonObject } from '../subgraph/scalars.js';

export interface SealedCredentials {
  scheme: 'aes-256-gcm';
  /** `v1:<iv>:<tag>:<ciphertext>`, base64 parts; see lib/crypto/secretBox.ts. */
  sealed: string;
}

export interface CredentialsVault {
  seal(credentials: JsonObject): SealedCredentials;
  /** For connectors (activation and sync jobs) only; never for an API response. */
  open(stored: SealedCredentials): JsonObject;
}

/** Throws at start-up when the key is not 32 bytes (hex or base64). */
export function createCredentialsVault(encryptionKey: string): CredentialsVault {
  const box = createSecretBox(parseEncryptionKey(encryptionKey));
  return {
    seal: (credentials) => ({ scheme: 'aes-256-gcm', sealed: box.seal(JSON.stringify(credentials)) }),
    open: (stored) => {
      if (stored.scheme !== 'aes-256-gcm') throw new Error(`Unknown credentials scheme ${JSON.stringify(stored.scheme)}`);
      return parseJsonObject(JSON.parse(box.open(stored.sealed)));
    },
  };
}
