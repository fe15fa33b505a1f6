import { DevDbError, ErrorCode } from '../errors.js';
import { isPlainObject, type Doc } from '../query/values.js';
import type { CommandHandler } from './context.js';
import { runFind } from './find.js';

/** `explain` for find/count/distinct/update/delete/findAndModify filters: which plan devdb would use. */
const explain: CommandHandler = (cmd, ctx) => {
  const inner = cmd.explain;
  if (!isPlainObject(inner)) throw new DevDbError(ErrorCode.TypeMismatch, 'explain command requires a nested object');
  const verb = Object.keys(inner)[0];
  const collName = String(inner[verb]);
  let filter: Doc = {};
  if (verb === 'find') filter = (inner.filter as Doc) ?? {};
  else if (verb === 'count' || verb === 'distinct') filter = (inner.query as Doc) ?? {};
  else if (verb === 'findAndModify' || verb === 'findandmodify') filter = (inner.query as Doc) ?? {};
  else if (verb === 'update' && Array.isArray(inner.updates)) filter = ((inner.updates[0] as Doc)?.q as Doc) ?? {};
  else if (verb === 'delete' && Array.isArray(inner.deletes)) filter = ((inner.deletes[0] as Doc)?.q as Doc) ?? {};
  else if (verb === 'aggregate' && Array.isArray(inner.pipeline) && isPlainObject(inner.pipeline[0]) && isPlainObject(inner.pipeline[0].$match)) filter = inner.pipeline[0].$match;
  const statement = (Array.isArray(inner.updates) ? inner.updates[0] : Array.isArray(inner.deletes) ? inner.deletes[0] : undefined) as Doc | undefined;
  const collation = inner.collation ?? statement?.collation;
  const started = Date.now();
  const result = runFind(ctx, collName, { find: collName, filter, ...(collation !== undefined ? { collation } : {}), ...(inner.let !== undefined ? { let: inner.let } : {}) });
  const { plan } = result;
  const winningPlan: Doc = plan.stage === 'COLLSCAN' || plan.stage === 'EOF'
    ? { stage: plan.stage, filter, direction: 'forward' }
    : plan.stage === 'IDHACK'
      ? { stage: 'IDHACK' }
      : { stage: 'FETCH', filter, inputStage: { stage: 'IXSCAN', indexName: plan.indexName, keyPattern: plan.keyPattern, isMultiKey: false, direction: 'forward' } };
  const verbosity = typeof cmd.verbosity === 'string' ? cmd.verbosity : 'allPlansExecution';
  return {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${collName}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
    ...(verbosity === 'queryPlanner' ? {} : {
      executionStats: {
        executionSuccess: true,
        nReturned: result.docs.length,
        executionTimeMillis: Date.now() - started,
        totalKeysExamined: plan.stage === 'COLLSCAN' ? 0 : result.examined,
        totalDocsExamined: result.examined,
      },
    }),
    command: inner,
    serverInfo: { host: ctx.server.host, port: ctx.server.port, version: '7.0.0', gitVersion: 'devdb' },
    ok: 1,
  };
};

export const explainCommands: Record<string, CommandHandler> = { explain };
