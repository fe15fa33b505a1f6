/**
 * API keys: 32 random bytes, shown once when created and stored only as a
 * SHA-256 hash. Keys carry so much entropy that a fast hash is the right one
 * (as GitHub and Stripe tokens); lookup is by hash. The prefix tells people
 * and secret scanners what the string is.
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'cdpk_';
const API_KEY_PATTERN = /^cdpk_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  /** The secret, to show once. */
  key: string;
  /** What is stored and looked up. */
  hash: string;
  /** The first characters, safe to show in lists so people recognise a key. */
  hint: string;
}

export function generateApiKey(random: (size: number) => Buffer = randomBytes): NewApiKey {
  const key = `${API_KEY_PREFIX}${random(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), hint: apiKeyHint(key) };
}

export function apiKeyHint(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Cheap shape check before any database lookup. */
export function looksLikeApiKey(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}

/** Reads `Authorization: Bearer <key>`; undefined when absent or of another scheme. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
