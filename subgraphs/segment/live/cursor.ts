/**
 * Cursors of the membership event log: opaque to clients, a position inside.
 * `mev1:` versions the format, so a later cursor can carry more without
 * misreading an older one.
 */
import { badInput } from '../../../lib/errors.js';

const PREFIX = 'mev1:';

export function encodeCursor(position: number): string {
  return Buffer.from(`${PREFIX}${position}`, 'utf8').toString('base64url');
}

/** The log position a cursor stands for; BAD_USER_INPUT for anything this server did not hand out. */
export function decodeCursor(cursor: string): number {
  const text = cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const digits = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : '';
  const position = /^\d{1,15}$/.test(digits) ? Number(digits) : Number.NaN;
  if (!Number.isSafeInteger(position)) {
    throw badInput('`after` is not a cursor of this subscription: pass the `cursor` of an event you received', { field: 'after' });
  }
  return position;
}
