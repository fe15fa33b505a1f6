import { DevDbError, ErrorCode } from '../errors.js';
import type { DevDbLogger } from '../logger.js';
import type { Doc } from '../query/values.js';
import { ChangeLog } from './changeLog.js';
import { Collection } from './collection.js';
import { CursorRegistry } from './cursors.js';
import { SessionCache } from './sessions.js';

export interface DeploymentOptions {
  changeLogSize: number;
  now: () => number;
  logger: DevDbLogger;
}

/** Everything one devdb server holds: databases, the change log, open cursors. */
export class Deployment {
  readonly changeLog: ChangeLog;
  readonly cursors = new CursorRegistry();
  readonly sessions: SessionCache;
  readonly now: () => number;
  readonly log: DevDbLogger;
  private readonly dbs = new Map<string, Map<string, Collection>>();

  constructor(options: DeploymentOptions) {
    this.now = options.now;
    this.log = options.logger;
    this.changeLog = new ChangeLog(options.changeLogSize, options.now);
    this.sessions = new SessionCache(options.now);
  }

  private readonly emit = (coll: Collection, event: Doc): void => {
    this.changeLog.append(coll.db, coll.name, event);
  };

  private readonly warnValidation = (coll: Collection, errInfo: Doc): void => {
    this.log.warn({ ns: coll.ns, errInfo }, 'Document would fail validation (validationAction: warn)');
  };

  databaseNames(): string[] {
    return [...this.dbs.entries()].filter(([, colls]) => colls.size > 0).map(([name]) => name);
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  collection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Every collection, for the TTL monitor. */
  allCollections(): Collection[] {
    return [...this.dbs.values()].flatMap((m) => [...m.values()]);
  }

  ensureCollection(db: string, name: string): Collection {
    return this.collection(db, name) ?? this.createCollection(db, name, {});
  }

  createCollection(db: string, name: string, options: Doc): Collection {
    validateDbName(db);
    validateCollectionName(name);
    if (this.collection(db, name)) throw new DevDbError(ErrorCode.NamespaceExists, `Collection ${db}.${name} already exists.`);
    let colls = this.dbs.get(db);
    if (!colls) { colls = new Map(); this.dbs.set(db, colls); }
    const coll = new Collection(db, name, options, this.emit, this.warnValidation);
    colls.set(name, coll);
    return coll;
  }

  dropCollection(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    const coll = colls?.get(name);
    if (!colls || !coll) return false;
    colls.delete(name);
    coll.clear();
    this.changeLog.append(db, name, { operationType: 'drop', ns: { db, coll: name } });
    return true;
  }

  dropDatabase(db: string): void {
    for (const coll of this.collections(db)) this.dropCollection(db, coll.name);
    if (this.dbs.delete(db)) this.changeLog.append(db, undefined, { operationType: 'dropDatabase', ns: { db } });
  }

  renameCollection(fromDb: string, from: string, toDb: string, to: string, dropTarget: boolean): void {
    const coll = this.collection(fromDb, from);
    if (!coll) throw new DevDbError(ErrorCode.NamespaceNotFound, `Source collection ${fromDb}.${from} does not exist`);
    if (fromDb !== toDb) throw new DevDbError(ErrorCode.IllegalOperation, 'devdb renames collections within one database only');
    validateCollectionName(to);
    if (this.collection(toDb, to)) {
      if (!dropTarget) throw new DevDbError(ErrorCode.NamespaceExists, 'target namespace exists');
      this.dropCollection(toDb, to);
    }
    const colls = this.dbs.get(fromDb)!;
    colls.delete(from);
    coll.name = to;
    colls.set(to, coll);
    this.changeLog.append(fromDb, from, { operationType: 'rename', ns: { db: fromDb, coll: from }, to: { db: toDb, coll: to } });
  }
}

export function validateDbName(db: string): void {
  if (typeof db !== 'string' || db.length === 0 || db.length > 63 || /[/\\. "$\0]/.test(db)) {
    throw new DevDbError(ErrorCode.InvalidNamespace, `Invalid database name: '${String(db)}'`);
  }
}

export function validateCollectionName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new DevDbError(ErrorCode.InvalidNamespace, `Invalid collection name: '${String(name)}'`);
  }
}
