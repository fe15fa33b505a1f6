import { evalExpr } from 'mingo/core';
import { DevDbError, ErrorCode } from '../errors.js';
import { DEVDB_CONTEXT } from './mingoContext.js';
import { isPlainObject, toPlain, type Doc } from './values.js';

/** MongoDB's rule for user variable names: a lowercase ASCII letter or a non-ASCII character first. */
const VARIABLE_NAME = /^[a-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/;

/**
 * A command's `let` (find, update, delete, findAndModify, aggregate): each value is an aggregation
 * expression evaluated once, in order, before the command runs (so `{ $literal: '$x' }` is the string
 * and `{ $rand: {} }` one number); later variables may use earlier ones.
 */
export function evaluateLet(raw: unknown, now: Date): Doc | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) throw new DevDbError(ErrorCode.TypeMismatch, "BSON field 'let' is the wrong type, expected type 'object'");
  const variables: Doc = {};
  for (const [name, expr] of Object.entries(raw)) {
    if (!VARIABLE_NAME.test(name)) {
      throw new DevDbError(ErrorCode.FailedToParse, `'${name}' starts with an invalid character for a user variable name`);
    }
    try {
      variables[name] = evalExpr({}, toPlain(expr), { idKey: '_id', context: DEVDB_CONTEXT, variables: { ...variables, NOW: now } } as never);
    } catch (err) {
      throw new DevDbError(ErrorCode.BadValue, `let.${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return variables;
}
