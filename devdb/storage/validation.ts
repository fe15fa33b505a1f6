/**
 * Schema validation (https://www.mongodb.com/docs/manual/core/schema-validation/): a collection's
 * `validator` (query operators, `$expr`, `$jsonSchema`) checked on every insert and update, with
 * `validationLevel` strict (default), moderate or off and `validationAction` error (default) or warn.
 * A failing write answers DocumentValidationFailure (121) with `errInfo.failingDocumentId` and
 * `errInfo.details` naming the clauses the document did not satisfy.
 */
import { DevDbError, ErrorCode } from '../errors.js';
import { valuesAtPath } from '../query/compare.js';
import { compileJsonSchema } from '../query/jsonSchema.js';
import { Matcher } from '../query/match.js';
import { isPlainObject, type Doc } from '../query/values.js';

export type ValidationLevel = 'strict' | 'moderate' | 'off';
export type ValidationAction = 'error' | 'warn';

interface Clause {
  spec: Doc;
  operatorName: string;
  path?: string;
  test(doc: Doc, wrapped: boolean): boolean;
}

export class Validation {
  private readonly clauses: Clause[];

  constructor(readonly validator: Doc, readonly level: ValidationLevel, readonly action: ValidationAction) {
    this.clauses = splitClauses(validator);
  }

  private valid(doc: Doc, wrapped: boolean): boolean {
    return this.clauses.every((c) => c.test(doc, wrapped));
  }

  /**
   * Throws DocumentValidationFailure unless the write may go ahead; `before` is the document an update
   * replaces (moderate validation lets documents that were already invalid change freely). Returns the
   * failure's details when the action is `warn`, so the caller can log them.
   */
  check(doc: Doc, wrapped: boolean, before: { doc: Doc; wrapped: boolean } | undefined): Doc | undefined {
    if (this.level === 'off') return undefined;
    if (this.valid(doc, wrapped)) return undefined;
    if (before && this.level === 'moderate' && !this.valid(before.doc, before.wrapped)) return undefined;
    const errInfo = { failingDocumentId: doc._id, details: this.details(doc, wrapped) };
    if (this.action === 'warn') return errInfo;
    throw new DevDbError(ErrorCode.DocumentValidationFailure, 'Document failed validation', { errInfo });
  }

  private details(doc: Doc, wrapped: boolean): Doc {
    const failing = this.clauses.flatMap((c, index) => (c.test(doc, wrapped) ? [] : [{ index, details: describe(c, doc) }]));
    if (this.clauses.length === 1 && failing.length === 1) return failing[0].details;
    return { operatorName: '$and', clausesNotSatisfied: failing };
  }
}

function describe(c: Clause, doc: Doc): Doc {
  const out: Doc = { operatorName: c.operatorName, specifiedAs: c.spec, reason: c.operatorName === '$type' ? 'type did not match' : 'expression did not match' };
  if (c.path !== undefined) {
    const [value] = valuesAtPath(doc, c.path);
    if (value === undefined) out.reason = 'field was missing';
    else out.consideredValue = value;
  }
  return out;
}

/** The validator's top-level clauses, one per field operator, as MongoDB reports them. */
function splitClauses(validator: Doc): Clause[] {
  const out: Clause[] = [];
  for (const [key, value] of Object.entries(validator)) {
    if (key === '$jsonSchema') {
      const valid = compileJsonSchema(value);
      out.push({ spec: { [key]: value }, operatorName: key, test: (doc) => valid(doc) });
      continue;
    }
    if (key.startsWith('$')) {
      const matcher = new Matcher({ [key]: value });
      out.push({ spec: { [key]: value }, operatorName: key, test: (doc, wrapped) => matcher.test(doc, wrapped) });
      continue;
    }
    const ops = isPlainObject(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => k.startsWith('$')) ? Object.entries(value) : [['$eq', value] as const];
    for (const [op, arg] of ops) {
      const spec = { [key]: { [op]: arg } };
      const matcher = new Matcher(spec);
      out.push({ spec, operatorName: op, path: key, test: (doc, wrapped) => matcher.test(doc, wrapped) });
    }
  }
  return out;
}

const LEVELS = new Set(['strict', 'moderate', 'off']);
const ACTIONS = new Set(['error', 'warn']);

/** Compiles a collection's validation options; undefined when it has no validator. */
export function compileValidation(options: Doc): Validation | undefined {
  const { validator, validationLevel = 'strict', validationAction = 'error' } = options;
  if (typeof validationLevel !== 'string' || !LEVELS.has(validationLevel)) {
    throw new DevDbError(ErrorCode.BadValue, `Enumeration value '${String(validationLevel)}' for field 'validationLevel' is not a valid value.`);
  }
  if (typeof validationAction !== 'string' || !ACTIONS.has(validationAction)) {
    if (validationAction === 'errorAndLog') throw new DevDbError(ErrorCode.InvalidOptions, "devdb does not support validationAction 'errorAndLog' (MongoDB 8.1)");
    throw new DevDbError(ErrorCode.BadValue, `Enumeration value '${String(validationAction)}' for field 'validationAction' is not a valid value.`);
  }
  if (validator === undefined || (isPlainObject(validator) && Object.keys(validator).length === 0)) return undefined;
  if (!isPlainObject(validator)) throw new DevDbError(ErrorCode.TypeMismatch, "BSON field 'validator' is the wrong type, expected type 'object'");
  for (const op of ['$near', '$nearSphere', '$text', '$where']) {
    if (JSON.stringify(validator).includes(`"${op}"`)) throw new DevDbError(ErrorCode.QueryFeatureNotAllowed, `${op} is not allowed in this context`);
  }
  const { $jsonSchema: _topLevel, ...rest } = validator;
  if (JSON.stringify(rest).includes('"$jsonSchema"')) {
    throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support $jsonSchema below the top level of a validator');
  }
  return new Validation(validator, validationLevel as ValidationLevel, validationAction as ValidationAction);
}
