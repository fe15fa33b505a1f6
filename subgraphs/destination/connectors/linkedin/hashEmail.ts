/** LinkedIn matches people by the SHA-256 of their email, trimmed and lowercased, as 64 lowercase hex characters. */
import { createHash } from 'node:crypto';

export function sha256Email(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}
