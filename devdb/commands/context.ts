import { DevDbError, ErrorCode } from '../errors.js';
import type { Deployment } from '../storage/deployment.js';
import { isPlainObject, keyOf, toNumber, type Doc } from '../query/values.js';
import type { Collection } from '../storage/collection.js';

export interface ServerInfo {
  host: string;
  port: number;
  setName: string;
  startedAt: Date;
}

/** What a command handler can see: the deployment, the target database and the calling connection. */
export interface CommandContext {
  readonly deployment: Deployment;
  readonly db: string;
  readonly connectionId: number;
  readonly server: ServerInfo;
  /** Aborted when the client connection closes (long getMores stop waiting). */
  readonly signal: AbortSignal;
}

export type CommandHandler = (cmd: Doc, ctx: CommandContext) => Doc | Promise<Doc>;

export function collectionName(cmd: Doc, field: string): string {
  const v = cmd[field];
  if (typeof v !== 'string' || v.length === 0) {
    throw new DevDbError(ErrorCode.InvalidNamespace, `collection name has invalid type ${typeof v}`);
  }
  return v;
}

export function optionalNumber(cmd: Doc, field: string, fallback: number): number {
  const v = cmd[field];
  if (v === undefined || v === null) return fallback;
  const n = toNumber(v);
  if (Number.isNaN(n)) throw new DevDbError(ErrorCode.TypeMismatch, `Field '${field}' should be a number, not ${typeof v}`);
  return n;
}

export function optionalDoc(cmd: Doc, field: string): Doc | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw new DevDbError(ErrorCode.TypeMismatch, `Field '${field}' must be an object`);
  return v;
}

export function requireCollection(ctx: CommandContext, name: string): Collection {
  const c = ctx.deployment.collection(ctx.db, name);
  if (!c) throw new DevDbError(ErrorCode.NamespaceNotFound, `ns not found: ${ctx.db}.${name}`);
  return c;
}

/**
 * A `hint` must name an existing index (by name or key pattern) or `$natural`, as MongoDB answers
 * "hint provided does not correspond to an existing index" (BadValue). devdb plans without it.
 */
export function checkHint(coll: Collection | undefined, hint: unknown): void {
  if (hint === undefined || hint === null || !coll) return;
  if (typeof hint === 'string') {
    if (hint === '_id_' || coll.findIndex(hint)) return;
  } else if (isPlainObject(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 0 || (keys.length === 1 && keys[0] === '$natural')) return;
    const wanted = keyOf(hint);
    if (wanted === keyOf({ _id: 1 }) || coll.indexes.some((i) => keyOf(i.spec.key) === wanted)) return;
  }
  throw new DevDbError(ErrorCode.BadValue, 'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
}
