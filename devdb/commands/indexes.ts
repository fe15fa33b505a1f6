import { DevDbError, ErrorCode } from '../errors.js';
import { parseCollation } from '../query/collation.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import { ArrayCursor } from '../storage/cursors.js';
import { defaultIndexName, type IndexSpec } from '../storage/indexes.js';
import { collectionName, requireCollection, type CommandHandler } from './context.js';
import { openCursor } from './find.js';

const INDEX_OPTIONS = new Set(['key', 'name', 'unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'background', 'v', 'collation', 'hidden', 'weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection']);

function normaliseSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key) || Object.keys(raw.key).length === 0) {
    throw new DevDbError(ErrorCode.FailedToParse, 'Index spec must have a non-empty key document');
  }
  for (const k of Object.keys(raw)) {
    if (!INDEX_OPTIONS.has(k)) throw new DevDbError(ErrorCode.InvalidOptions, `The field '${k}' is not valid for an index specification.`);
  }
  if (Object.keys(raw.key).some((f) => f === '$**' || f.endsWith('.$**')) || raw.wildcardProjection !== undefined) {
    throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support wildcard indexes');
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    const ok = typeof dir === 'string' ? ['text', '2dsphere', '2d', 'hashed'].includes(dir) : toNumber(dir) !== 0 && !Number.isNaN(toNumber(dir));
    if (!ok) throw new DevDbError(ErrorCode.CannotCreateIndex, `Values in the index key pattern can only be numbers or strings: ${field}: ${String(dir)}`);
  }
  const key: Doc = {};
  for (const [field, dir] of Object.entries(raw.key)) key[field] = typeof dir === 'string' ? dir : toNumber(dir);
  const name = typeof raw.name === 'string' ? raw.name : defaultIndexName(key);
  const spec: IndexSpec = { v: 2, key, name };
  if (raw.unique === true) spec.unique = true;
  if (raw.sparse === true) spec.sparse = true;
  if (raw.expireAfterSeconds !== undefined) {
    const s = toNumber(raw.expireAfterSeconds);
    if (Number.isNaN(s) || s < 0) throw new DevDbError(ErrorCode.CannotCreateIndex, 'expireAfterSeconds must be a non-negative number');
    if (Object.keys(key).length !== 1) throw new DevDbError(ErrorCode.CannotCreateIndex, 'TTL indexes are single-field indexes, compound indexes do not support TTL.');
    spec.expireAfterSeconds = s;
  }
  if (isPlainObject(raw.partialFilterExpression)) spec.partialFilterExpression = raw.partialFilterExpression;
  const collation = parseCollation(raw.collation);
  if (collation) spec.collation = collation.spec;
  if (raw.hidden === true) spec.hidden = true;
  // Options of text and geo indexes are kept so listIndexes shows them; such indexes are never used.
  for (const k of ['weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max']) {
    if (raw[k] !== undefined) spec[k] = raw[k];
  }
  return spec;
}

/** What identifies an index in MongoDB 7.0 (SERVER-47657): two indexes may differ in nothing else but their name. */
function signature(s: IndexSpec): string {
  return keyOf({ k: s.key, u: s.unique ?? false, s: s.sparse ?? false, p: s.partialFilterExpression ?? null, c: s.collation ?? null });
}

/** Options outside the signature. */
function otherOptions(s: IndexSpec): string {
  return keyOf({ e: s.expireAfterSeconds ?? null, h: s.hidden ?? false });
}

const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) throw new DevDbError(ErrorCode.BadValue, 'Must specify at least one index to create');
  const specs = cmd.indexes.map(normaliseSpec);
  const existed = ctx.deployment.collection(ctx.db, name) !== undefined;
  const coll = ctx.deployment.ensureCollection(ctx.db, name);
  const before = coll.indexes.length + 1;
  let created = 0;
  for (const spec of specs) {
    if (spec.name === '_id_' || keyOf(spec.key) === keyOf({ _id: 1 })) continue;
    const byName = coll.findIndex(spec.name);
    if (byName) {
      if (signature(byName.spec) !== signature(spec)) {
        throw new DevDbError(ErrorCode.IndexKeySpecsConflict, `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(byName.spec)}`);
      }
      if (otherOptions(byName.spec) !== otherOptions(spec)) {
        throw new DevDbError(ErrorCode.IndexOptionsConflict, `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(byName.spec)}`);
      }
      continue;
    }
    const equivalent = coll.indexes.find((i) => signature(i.spec) === signature(spec));
    if (equivalent) {
      if (otherOptions(equivalent.spec) === otherOptions(spec)) throw new DevDbError(ErrorCode.IndexOptionsConflict, `Index already exists with a different name: ${equivalent.name}`);
      throw new DevDbError(ErrorCode.IndexOptionsConflict, `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(equivalent.spec)}`);
    }
    coll.addIndex(spec);
    if (typeof spec.key === 'object' && Object.values(spec.key).some((v) => v === 'text' || v === '2dsphere' || v === '2d')) {
      ctx.deployment.log.warn({ ns: coll.ns, index: spec.name }, 'text/geo index stored but not used: devdb refuses $text and geo queries');
    }
    created++;
  }
  return {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length + 1,
    createdCollectionAutomatically: !existed,
    ...(created === 0 ? { note: 'all indexes already exist' } : {}),
    ok: 1,
  };
};

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'listIndexes');
  const coll = requireCollection(ctx, name);
  const batchSize = isPlainObject(cmd.cursor) && cmd.cursor.batchSize !== undefined ? toNumber(cmd.cursor.batchSize) : 101;
  return openCursor(ctx, new ArrayCursor(coll.ns, coll.indexSpecs().map((s) => ({ ...s }))), batchSize, false);
};

const dropIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'dropIndexes');
  const coll = requireCollection(ctx, name);
  const nIndexesWas = coll.indexes.length + 1;
  const target = cmd.index;
  let names: string[];
  if (target === '*') names = coll.indexes.map((i) => i.name);
  else if (typeof target === 'string') names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    const found = coll.indexes.find((i) => keyOf(i.spec.key) === keyOf(target));
    if (!found) throw new DevDbError(ErrorCode.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
    names = [found.name];
  } else throw new DevDbError(ErrorCode.TypeMismatch, "'index' must be a string, array or object");
  for (const n of names) {
    if (n === '_id_') throw new DevDbError(ErrorCode.InvalidOptions, 'cannot drop _id index');
    if (!coll.findIndex(n)) throw new DevDbError(ErrorCode.IndexNotFound, `index not found with name [${n}]`);
  }
  names.forEach((n) => coll.dropIndex(n));
  return { nIndexesWas, ok: 1 };
};

export const indexCommands: Record<string, CommandHandler> = { createIndexes, listIndexes, dropIndexes, deleteIndexes: dropIndexes };
