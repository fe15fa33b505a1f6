import { asDevDbError, DevDbError, ErrorCode } from '../errors.js';
import { isPlainObject, toNumber, type Doc } from '../query/values.js';
import { MAX_BSON_OBJECT_SIZE } from '../wire/constants.js';
import { oversizedBy } from '../wire/bsonCodec.js';
import { collectionName, type CommandContext, type CommandHandler } from './context.js';
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
  let n = 0;
  const writeErrors = eachStatement(cmd, docs, (doc) => {
    const size = oversizedBy(doc);
    if (size !== undefined) {
      throw new DevDbError(ErrorCode.BSONObjectTooLarge, `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`);
    }
    coll.insert(doc);
    n++;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

const update: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'update');
  const items = statements(cmd, 'updates');
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors = eachStatement(cmd, items, (s, index) => {
    const out = runUpdate(ctx, name, {
      filter: s.q as Doc,
      update: s.u,
      multi: s.multi === true,
      upsert: s.upsert === true,
      arrayFilters: s.arrayFilters,
      sort: s.sort,
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
  let n = 0;
  const writeErrors = eachStatement(cmd, items, (s) => {
    const limit = s.limit === undefined ? 0 : toNumber(s.limit);
    if (limit !== 0 && limit !== 1) throw new DevDbError(ErrorCode.FailedToParse, 'The limit field in delete objects must be 0 or 1.');
    n += runDelete(ctx, name, s.q, limit === 0).length;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

export const crudCommands: Record<string, CommandHandler> = { insert, update, delete: del };
