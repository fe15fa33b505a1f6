import { asDevDbError, DevDbError, ErrorCode } from '../errors.js';
import { errorFields } from '../logger.js';
import type { Doc } from '../query/values.js';
import { adminCommands } from './admin.js';
import { aggregateCommands } from './aggregate.js';
import { collectionCommands } from './collections.js';
import type { CommandContext, CommandHandler } from './context.js';
import { crudCommands } from './crud.js';
import { explainCommands } from './explain.js';
import { findAndModifyCommands } from './findAndModify.js';
import { findCommands } from './find.js';
import { indexCommands } from './indexes.js';

const handlers = new Map<string, CommandHandler>(Object.entries({
  ...adminCommands,
  ...crudCommands,
  ...findCommands,
  ...aggregateCommands,
  ...indexCommands,
  ...collectionCommands,
  ...findAndModifyCommands,
  ...explainCommands,
}));

const TRANSACTION_MESSAGE = 'devdb does not support multi-document transactions; the platform never uses them';

/** Runs one command document and returns its reply; never throws. */
export async function runCommand(cmd: Doc, ctx: CommandContext): Promise<Doc> {
  const name = Object.keys(cmd)[0];
  try {
    if (name === undefined) throw new DevDbError(ErrorCode.FailedToParse, 'empty command document');
    if (cmd.startTransaction === true || cmd.autocommit === false) {
      // Not IllegalOperation (20): the driver rewrites code 20 on writes into a misleading retryWrites hint.
      throw new DevDbError(ErrorCode.OperationNotSupportedInTransaction, TRANSACTION_MESSAGE);
    }
    if (cmd.lsid !== undefined) ctx.deployment.sessions.touch(cmd.lsid);
    const handler = handlers.get(name);
    if (!handler) throw new DevDbError(ErrorCode.CommandNotFound, `no such command: '${name}'`);
    return await handler(cmd, ctx);
  } catch (err) {
    const e = asDevDbError(err);
    if (!(err instanceof DevDbError)) ctx.deployment.log.error({ command: name, ...errorFields(err, true) }, 'command failed unexpectedly');
    return e.toReply();
  }
}
