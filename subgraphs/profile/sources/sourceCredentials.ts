/**
 * Source credentials: accepted on create and update, stored encrypted
 * (AES-256-GCM, lib/crypto/secretBox.ts, `config.security.encryptionKey`), never
 * returned. Opened only by the sync job and `testSource`.
 */
import { createSecretBox, parseEncryptionKey } from '../../../lib/crypto/secretBox.js';
import { parseJsonObject, type JsonObject } from '../../../lib/subgraph/scalars.js';

export interface SealedCredentials {
  scheme: 'aes-256-gcm';
  /** `v1:<iv>:<tag>:<ciphertext>`, base64 parts; see lib/crypto/secretBox.ts. */
  sealed: string;
}

export interface SourceCredentialsVault {
  seal(credentials: JsonObject): SealedCredentials;
  open(stored: SealedCredentials): JsonObject;
}

export function createSourceCredentialsVault(encryptionKey: string): SourceCredentialsVault {
  const box = createSecretBox(parseEncryptionKey(encryptionKey));
  return {
    seal: (credentials) => ({ scheme: 'aes-256-gcm', sealed: box.seal(JSON.stringify(credentials)) }),
    open: (stored) => {
      if (stored.scheme !== 'aes-256-gcm') throw new Error(`Unknown credentials scheme ${JSON.stringify(stored.scheme)}`);
      return parseJsonObject(JSON.parse(box.open(stored.sealed)));
    },
  };
}
