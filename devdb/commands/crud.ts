import { asDevDbError, DevDbError, ErrorCode } from '../errors.js';
import { parseCollation } from '../query/collation.js';
import { evaluateLet } from '../query/letVariables.js';
import type { MatchOptions } from '../query/match.js';
import type { WriteOptions } from '../storage/collection.js';
import { isPlainObject, toNumber, type Doc } from '../query/values.js';
import { MAX_BSON_OBJECT_SIZE } from '../wire/constants.js';
import { oversizedBy } from '../wire/bsonCodec.js';
import { checkHint, collectionName, type CommandContext, type CommandHandler } from './context.js';
import { runDelete, runUpdate } from './writeCore.js';

function statements(cmd: Doc, field: string): Doc[] {
  const v = cmd[field];
  if (!Array.isArray(v)) throw new DevDbError(ErrorCode.FailedToParse, `BSON field '${field}' is missing or is not an array`);
  if (v.length > 100000) throw new DevDbError(ErrorCode.InvalidOptions, `Write batch sizes must be between 1 and 100000. Got ${v.length} operations.`);
  return v.map((s, i) => {
    if (!isPlainObject(s)) throw new DevDbError(ErrorCode.TypeMismatch, `${field}.${i} must be an object`);
    return s;
  });
}

/** The fields MongoDB 7.0 accepts in an update or delete statement (`sort` in update came with 8.0). */
const STATEMENT_FIELDS: Record<'update' | 'delete', Set<string>> = {
  update: new Set(['q', 'u', 'multi', 'upsert', 'arrayFilters', 'hint', 'collation', 'c', 'upsertSupplied']),
  delete: new Set(['q', 'limit', 'hint', 'collation']),
};

function checkStatementFields(command: 'update' | 'delete', s: Doc): void {
  const allowed = STATEMENT_FIELDS[command];
  for (const k in s) {
    if (!allowed.has(k)) throw new DevDbError(ErrorCode.Location40415, `BSON field '${command}.${command === 'update' ? 'updates' : 'deletes'}.${k}' is an unknown field.`);
  }
}

/** A statement's collation and the command's `let` (with the statement's own constants, `c`). */
function matchOptions(s: Doc, variables: Doc | undefined): MatchOptions | undefined {
  const collation = parseCollation(s.collation);
  const constants = s.c === undefined ? variables : { ...variables, ...(s.c as Doc) };
  if (!collation && !constants) return undefined;
  return { collation, variables: constants };
}

export function writeOptions(cmd: Doc): WriteOptions | undefined {
  return cmd.bypassDocumentValidation === true ? { bypassValidation: true } : undefined;
}

/** Runs each statement, collecting write errors; an ordered batch stops at the first one. */
function eachStatement(cmd: Doc, items: Doc[], run: (item: Doc, index: number) => void): Doc[] {
  const ordered = cmd.ordered !== false;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      run(items[i], i);
    } catch (err) {
      writeErrors.push(asDevDbError(err).toWriteError(i));
      if (ordered) break;
    }
  }
  return writeErrors;
}

const insert: CommandHandler = (cmd, ctx: CommandContext) => {
  const name = collectionName(cmd, 'insert');
  const docs = statements(cmd, 'documents');
  const coll = ctx.deployment.ensureCollection(ctx.db, name);
  const write = writeOptions(cmd);
  let n = 0;
  const writeErrors = eachStatement(cmd, docs, (doc) => {
    const size = oversizedBy(doc);
    if (size !== undefined) {
      throw new DevDbError(ErrorCode.BSONObjectTooLarge, `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`);
    }
    coll.insert(doc, write);
    n++;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

const update: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'update');
  const items = statements(cmd, 'updates');
  items.forEach((s) => checkStatementFields('update', s));
  const variables = evaluateLet(cmd.let, new Date(ctx.deployment.now()));
  const write = writeOptions(cmd);
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors = eachStatement(cmd, items, (s, index) => {
    checkHint(ctx.deployment.collection(ctx.db, name), s.hint);
    const out = runUpdate(ctx, name, {
      filter: s.q as Doc,
      update: s.u,
      multi: s.multi === true,
      upsert: s.upsert === true,
      arrayFilters: s.arrayFilters,
      match: matchOptions(s, variables),
      write,
    });
    if (out.upsertedId !== undefined) {
      upserted.push({ index, _id: out.upsertedId });
      n += 1;
    } else {
      n += out.matched;
      nModified += out.modified;
    }
  });
  return { n, nModified, ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

const del: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'delete');
  const items = statements(cmd, 'deletes');
  items.forEach((s) => checkStatementFields('delete', s));
  const variables = evaluateLet(cmd.let, new Date(ctx.deployment.now()));
  let n = 0;
  const writeErrors = eachStatement(cmd, items, (s) => {
    const limit = s.limit === undefined ? 0 : toNumber(s.limit);
    if (limit !== 0 && limit !== 1) throw new DevDbError(ErrorCode.FailedToParse, 'The limit field in delete objects must be 0 or 1.');
    checkHint(ctx.deployment.collection(ctx.db, name), s.hint);
    n += runDelete(ctx, name, s.q, limit === 0, undefined, matchOptions(s, variables)).length;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

export const crudCommands: Record<string, CommandHandler> = { insert, update, delete: del };
