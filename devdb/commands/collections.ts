import { DevDbError, ErrorCode } from '../errors.js';
import { Matcher } from '../query/match.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import { ArrayCursor } from '../storage/cursors.js';
import { collectionName, requireCollection, type CommandHandler } from './context.js';
import { openCursor } from './find.js';

/** Generic command fields (sessions, API version, concerns): not options of the collection. */
const COMMAND_FIELDS = new Set(['comment', 'writeConcern', 'lsid', '$db', '$readPreference', '$clusterTime', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'txnNumber', 'autocommit', 'maxTimeMS', 'readConcern']);
/** `create` options devdb implements; they are kept as the collection's options (listCollections shows them). */
const CREATE_OPTIONS = new Set(['capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'storageEngine', 'indexOptionDefaults', 'changeStreamPreAndPostImages']);
/** MongoDB 7.0 `create` options devdb refuses (InvalidOptions), each with the feature it would need. */
const REFUSED_CREATE_OPTIONS: Record<string, string> = {
  viewOn: 'views',
  pipeline: 'views',
  timeseries: 'time series collections',
  expireAfterSeconds: 'time series and clustered collections',
  clusteredIndex: 'clustered collections',
  collation: 'a collection default collation (pass collation per operation or per index)',
  encryptedFields: 'queryable encryption',
  autoIndexId: 'collections without an _id index',
};

/** `changeStreamPreAndPostImages: { enabled: true }` needs pre-images, which devdb does not record. */
function refusePreImages(v: unknown): void {
  if (isPlainObject(v) && v.enabled === true) throw new DevDbError(ErrorCode.InvalidOptions, 'devdb does not support changeStreamPreAndPostImages (change stream pre- and post-images)');
}

const create: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'create');
  const options: Doc = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === 'create' || COMMAND_FIELDS.has(k)) continue;
    if (REFUSED_CREATE_OPTIONS[k]) throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support ${REFUSED_CREATE_OPTIONS[k]} (create option '${k}')`);
    if (!CREATE_OPTIONS.has(k)) throw new DevDbError(ErrorCode.Location40415, `BSON field 'create.${k}' is an unknown field.`);
    if (k === 'changeStreamPreAndPostImages') refusePreImages(v);
    options[k] = v;
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

const COLLMOD_FIELDS = new Set(['collMod', 'index', 'validator', 'validationLevel', 'validationAction', 'changeStreamPreAndPostImages', 'dryRun']);
const INDEX_MOD_FIELDS = new Set(['name', 'keyPattern', 'expireAfterSeconds', 'hidden']);
const REFUSED_COLLMOD_FIELDS: Record<string, string> = {
  viewOn: 'views', pipeline: 'views', timeseries: 'time series collections', expireAfterSeconds: 'clustered collections',
  cappedSize: 'resizing capped collections', cappedMax: 'resizing capped collections', prepareUnique: 'converting indexes to unique', unique: 'converting indexes to unique',
};

/** collMod: index TTL and hidden flags, validation rules; anything else is refused, never ignored. */
const collMod: CommandHandler = (cmd, ctx) => {
  const coll = requireCollection(ctx, collectionName(cmd, 'collMod'));
  for (const k of Object.keys(cmd)) {
    if (COMMAND_FIELDS.has(k) || COLLMOD_FIELDS.has(k)) continue;
    if (REFUSED_COLLMOD_FIELDS[k]) throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support ${REFUSED_COLLMOD_FIELDS[k]} (collMod option '${k}')`);
    throw new DevDbError(ErrorCode.Location40415, `BSON field 'collMod.${k}' is an unknown field.`);
  }
  if (cmd.dryRun !== undefined) throw new DevDbError(ErrorCode.InvalidOptions, "devdb does not support collMod 'dryRun'");
  if (cmd.changeStreamPreAndPostImages !== undefined) refusePreImages(cmd.changeStreamPreAndPostImages);
  const reply: Doc = {};
  const index = isPlainObject(cmd.index) ? cmd.index : undefined;
  if (index) {
    for (const k of Object.keys(index)) {
      if (!INDEX_MOD_FIELDS.has(k)) {
        if (k === 'unique' || k === 'prepareUnique') throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support converting indexes to unique (collMod index option '${k}')`);
        throw new DevDbError(ErrorCode.Location40415, `BSON field 'collMod.index.${k}' is an unknown field.`);
      }
    }
    const target = typeof index.name === 'string'
      ? coll.findIndex(index.name)
      : coll.indexes.find((i) => keyOf(i.spec.key) === keyOf(index.keyPattern));
    if (!target) throw new DevDbError(ErrorCode.IndexNotFound, `cannot find index ${typeof index.name === 'string' ? index.name : JSON.stringify(index.keyPattern)} for ns ${coll.ns}`);
    if (index.expireAfterSeconds !== undefined) {
      if (target.spec.expireAfterSeconds === undefined) throw new DevDbError(ErrorCode.InvalidOptions, 'no expireAfterSeconds field to update');
      reply.expireAfterSeconds_old = target.spec.expireAfterSeconds;
      target.spec.expireAfterSeconds = toNumber(index.expireAfterSeconds);
      reply.expireAfterSeconds_new = target.spec.expireAfterSeconds;
    }
    if (index.hidden !== undefined) {
      reply.hidden_old = target.spec.hidden === true;
      if (index.hidden === true) target.spec.hidden = true;
      else delete target.spec.hidden;
      reply.hidden_new = index.hidden === true;
    }
  }
  const validation: Doc = {};
  for (const k of ['validator', 'validationLevel', 'validationAction']) if (cmd[k] !== undefined) validation[k] = cmd[k];
  if (Object.keys(validation).length > 0) coll.setValidation(validation);
  if (cmd.changeStreamPreAndPostImages !== undefined) coll.options.changeStreamPreAndPostImages = cmd.changeStreamPreAndPostImages;
  return { ...reply, ok: 1 };
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
