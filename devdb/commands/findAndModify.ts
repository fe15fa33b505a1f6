import { DevDbError, ErrorCode } from '../errors.js';
import { parseCollation } from '../query/collation.js';
import { evaluateLet } from '../query/letVariables.js';
import { project } from '../query/projection.js';
import { isPlainObject, type Doc } from '../query/values.js';
import { checkHint, collectionName, optionalDoc, type CommandHandler } from './context.js';
import { writeOptions } from './crud.js';
import { runDelete, runUpdate } from './writeCore.js';

const findAndModify: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, cmd.findAndModify !== undefined ? 'findAndModify' : 'findandmodify');
  const query = optionalDoc(cmd, 'query') ?? {};
  const fields = optionalDoc(cmd, 'fields');
  const remove = cmd.remove === true;
  if (remove && cmd.update !== undefined) throw new DevDbError(ErrorCode.FailedToParse, 'Cannot specify both an update and remove=true');
  if (!remove && cmd.update === undefined) throw new DevDbError(ErrorCode.FailedToParse, 'Either an update or remove=true must be specified');
  if (remove && cmd.upsert === true) throw new DevDbError(ErrorCode.FailedToParse, 'Cannot specify both upsert=true and remove=true');
  const shape = (doc: Doc | undefined): Doc | null => (doc ? project([doc], fields, query)[0] ?? null : null);
  checkHint(ctx.deployment.collection(ctx.db, name), cmd.hint);
  const collation = parseCollation(cmd.collation);
  const variables = evaluateLet(cmd.let, new Date(ctx.deployment.now()));
  const match = collation || variables ? { collation, variables } : undefined;

  if (remove) {
    const [doc] = runDelete(ctx, name, query, false, cmd.sort, match);
    return { lastErrorObject: { n: doc ? 1 : 0 }, value: shape(doc), ok: 1 };
  }
  if (!isPlainObject(cmd.update) && !Array.isArray(cmd.update)) throw new DevDbError(ErrorCode.FailedToParse, 'update must be an object or pipeline');
  const out = runUpdate(ctx, name, {
    filter: query,
    update: cmd.update,
    multi: false,
    upsert: cmd.upsert === true,
    arrayFilters: cmd.arrayFilters,
    sort: cmd.sort,
    match,
    write: writeOptions(cmd),
  });
  const returnNew = cmd.new === true;
  const lastErrorObject: Doc = { n: out.upsertedId !== undefined ? 1 : out.matched, updatedExisting: out.matched > 0 };
  if (out.upsertedId !== undefined) lastErrorObject.upserted = out.upsertedId;
  const value = out.upsertedId !== undefined ? (returnNew ? shape(out.after) : null) : shape(returnNew ? out.after : out.before);
  return { lastErrorObject, value, ok: 1 };
};

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify };
