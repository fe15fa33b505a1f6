import { DevDbError, ErrorCode } from '../errors.js';
import { isPlainObject, type Doc } from '../query/values.js';
import type { CommandContext } from './context.js';

/**
 * `$listLocalSessions` (https://www.mongodb.com/docs/manual/reference/operator/aggregation/listLocalSessions/):
 * `{}` and `{ allUsers: true }` list every session (devdb has no authentication, so every session is
 * the unauthenticated user's); `{ users: [...] }` names users, who can have none.
 */
export function listLocalSessions(ctx: CommandContext, spec: unknown): Doc[] {
  if (!isPlainObject(spec)) throw new DevDbError(ErrorCode.TypeMismatch, '$listLocalSessions must be an object');
  for (const k of Object.keys(spec)) {
    if (k !== 'allUsers' && k !== 'users') throw new DevDbError(ErrorCode.Location40415, `BSON field '$listLocalSessions.${k}' is an unknown field.`);
  }
  if (spec.allUsers === true && spec.users !== undefined) {
    throw new DevDbError(ErrorCode.FailedToParse, 'The allUsers and users options are mutually exclusive');
  }
  return Array.isArray(spec.users) ? [] : ctx.deployment.sessions.list();
}
