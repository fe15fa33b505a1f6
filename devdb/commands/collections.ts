import { DevDbError, ErrorCode } from '../errors.js';
import { Matcher } from '../query/match.js';
import { isPlainObject, toNumber, type Doc } from '../query/values.js';
import { ArrayCursor } from '../storage/cursors.js';
import { collectionName, requireCollection, type CommandHandler } from './context.js';
import { openCursor } from './find.js';

const CREATE_OPTIONS = new Set(['capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'collation', 'storageEngine', 'indexOptionDefaults', 'changeStreamPreAndPostImages', 'clusteredIndex', 'expireAfterSeconds', 'comment', 'writeConcern', 'lsid', '$db', '$readPreference', '$clusterTime', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'txnNumber', 'autocommit', 'create', 'maxTimeMS', 'readConcern', 'encryptedFields', 'autoIndexId']);

const create: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'create');
  if (cmd.viewOn !== undefined) throw new DevDbError(ErrorCode.NotImplemented, 'devdb does not support views');
  if (cmd.timeseries !== undefined) throw new DevDbError(ErrorCode.NotImplemented, 'devdb does not support time series collections');
  const options: Doc = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (!CREATE_OPTIONS.has(k)) throw new DevDbError(ErrorCode.InvalidOptions, `BSON field 'create.${k}' is an unknown field.`);
    if (['capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'changeStreamPreAndPostImages'].includes(k)) options[k] = v;
  }
  if (options.capped === true) {
    if (options.size === undefined) throw new DevDbError(ErrorCode.InvalidOptions, 'the size field is required when creating a capped collection');
    options.size = Math.max(4096, Math.ceil(toNumber(options.size) / 256) * 256);
    if (options.max !== undefined && toNumber(options.max) <= 0) delete options.max;
  }
  ctx.deployment.createCollection(ctx.db, name, options);
  return { ok: 1 };
};

const drop: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'drop');
  const coll = ctx.deployment.collection(ctx.db, name);
  // MongoDB 7 answers ok for a missing collection.
  if (!coll) return { ok: 1 };
  const nIndexesWas = coll.indexes.length + 1;
  ctx.deployment.dropCollection(ctx.db, name);
  return { nIndexesWas, ns: coll.ns, ok: 1 };
};

const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.deployment.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

const listCollections: CommandHandler = (cmd, ctx) => {
  const filter = isPlainObject(cmd.filter) ? cmd.filter : {};
  const nameOnly = cmd.nameOnly === true;
  const entries: Doc[] = ctx.deployment.collections(ctx.db).map((c) => nameOnly
    ? { name: c.name, type: 'collection' }
    : {
      name: c.name,
      type: 'collection',
      options: { ...c.options },
      info: { readOnly: false, uuid: c.uuid },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
  const m = new Matcher(filter);
  const docs = entries.filter((e) => m.test(e));
  const batchSize = isPlainObject(cmd.cursor) && cmd.cursor.batchSize !== undefined ? toNumber(cmd.cursor.batchSize) : 101;
  return openCursor(ctx, new ArrayCursor(`${ctx.db}.$cmd.listCollections`, docs), batchSize, false);
};

const listDatabases: CommandHandler = (cmd, ctx) => {
  const filter = isPlainObject(cmd.filter) ? cmd.filter : {};
  const m = new Matcher(filter);
  const databases = ctx.deployment.databaseNames()
    .map((name) => ({ name, sizeOnDisk: 0, empty: false }))
    .filter((d) => m.test(d))
    .map((d) => (cmd.nameOnly === true ? { name: d.name } : d));
  return { databases, totalSize: 0, totalSizeMb: 0, ok: 1 };
};

const renameCollection: CommandHandler = (cmd, ctx) => {
  if (ctx.db !== 'admin') throw new DevDbError(ErrorCode.Unauthorized, 'renameCollection may only be run against the admin database.');
  const [fromDb, ...fromRest] = String(cmd.renameCollection).split('.');
  const [toDb, ...toRest] = String(cmd.to).split('.');
  ctx.deployment.renameCollection(fromDb, fromRest.join('.'), toDb, toRest.join('.'), cmd.dropTarget === true);
  return { ok: 1 };
};

const collMod: CommandHandler = (cmd, ctx) => {
  const coll = requireCollection(ctx, collectionName(cmd, 'collMod'));
  const index = isPlainObject(cmd.index) ? cmd.index : undefined;
  if (index) {
    const target = typeof index.name === 'string'
      ? coll.findIndex(index.name)
      : coll.indexes.find((i) => JSON.stringify(i.spec.key) === JSON.stringify(index.keyPattern));
    if (!target) throw new DevDbError(ErrorCode.IndexNotFound, 'cannot find index for collMod');
    if (index.expireAfterSeconds !== undefined) {
      const old = target.spec.expireAfterSeconds;
      target.spec.expireAfterSeconds = toNumber(index.expireAfterSeconds);
      return { expireAfterSeconds_old: old, expireAfterSeconds_new: target.spec.expireAfterSeconds, ok: 1 };
    }
  }
  for (const k of ['validator', 'validationLevel', 'validationAction']) if (cmd[k] !== undefined) coll.options[k] = cmd[k];
  return { ok: 1 };
};

const stats = (name: string, ctx: Parameters<CommandHandler>[1]): Doc => {
  const coll = ctx.deployment.collection(ctx.db, name);
  return { ns: `${ctx.db}.${name}`, count: coll?.size ?? 0, size: 0, storageSize: 0, nindexes: coll ? coll.indexes.length + 1 : 0, capped: coll?.capped ?? false, ok: 1 };
};

export const collectionCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
  renameCollection,
  collMod,
  collStats: (cmd, ctx) => stats(collectionName(cmd, 'collStats'), ctx),
  dbStats: (_cmd, ctx) => ({
    db: ctx.db,
    collections: ctx.deployment.collections(ctx.db).length,
    objects: ctx.deployment.collections(ctx.db).reduce((n, c) => n + c.size, 0),
    dataSize: 0,
    storageSize: 0,
    indexes: ctx.deployment.collections(ctx.db).reduce((n, c) => n + c.indexes.length + 1, 0),
    ok: 1,
  }),
};
