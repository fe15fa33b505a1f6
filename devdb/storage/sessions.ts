import { createHash } from 'node:crypto';
import { Binary } from 'bson';
import type { Doc } from '../query/values.js';

/** Sessions idle this long are gone, as MongoDB's logicalSessionTimeoutMinutes (30) says. */
export const SESSION_TIMEOUT_MINUTES = 30;

/** The user id MongoDB gives sessions opened without authentication: SHA-256 of the empty user name. */
const UNAUTHENTICATED_UID = new Binary(createHash('sha256').update('').digest());

interface SessionEntry {
  id: unknown;
  lastUse: number;
}

/** The logical sessions commands have used (MongoDB's local session cache), for `$listLocalSessions`. */
export class SessionCache {
  private readonly sessions = new Map<string, SessionEntry>();

  constructor(private readonly now: () => number) {}

  /** Records a command's `lsid` (`{ id: UUID }`). */
  touch(lsid: unknown): void {
    const id = (lsid as { id?: { toString(enc: 'hex'): string } } | null)?.id;
    if (id === undefined || id === null || typeof id.toString !== 'function') return;
    const key = id.toString('hex');
    const entry = this.sessions.get(key);
    if (entry) entry.lastUse = this.now();
    else this.sessions.set(key, { id, lastUse: this.now() });
  }

  /** Live sessions as `$listLocalSessions` shows them. */
  list(): Doc[] {
    const cutoff = this.now() - SESSION_TIMEOUT_MINUTES * 60_000;
    const out: Doc[] = [];
    for (const [key, s] of this.sessions) {
      if (s.lastUse < cutoff) {
        this.sessions.delete(key);
        continue;
      }
      out.push({ _id: { id: s.id, uid: UNAUTHENTICATED_UID }, lastUse: new Date(s.lastUse) });
    }
    return out;
  }
}
