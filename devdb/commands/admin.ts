import { Long } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from '../wire/constants.js';
import type { CommandContext, CommandHandler } from './context.js';
import type { Doc } from '../query/values.js';

export const DEVDB_VERSION = '7.0.0';

function hello(cmd: Doc, ctx: CommandContext): Doc {
  const me = `${ctx.server.host}:${ctx.server.port}`;
  const legacy = cmd.isMaster !== undefined || cmd.ismaster !== undefined;
  return {
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    ...(cmd.helloOk !== undefined ? { helloOk: true } : {}),
    setName: ctx.server.setName,
    setVersion: 1,
    hosts: [me],
    primary: me,
    me,
    secondary: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100000,
    localTime: new Date(ctx.deployment.now()),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    devdb: true,
    ok: 1,
  };
}

const buildInfo: CommandHandler = () => ({
  version: DEVDB_VERSION,
  gitVersion: 'devdb',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['devdb-memory'],
  modules: [],
  devdb: true,
  ok: 1,
});

function notInTransaction(): Doc {
  throw new DevDbError(ErrorCode.NoSuchTransaction, 'devdb does not support multi-document transactions; the platform never uses them');
}

export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  hostInfo: () => ({ system: { hostname: 'devdb', numCores: 1 }, os: { type: process.platform }, extra: {}, ok: 1 }),
  whatsmyuri: () => ({ you: '127.0.0.1', ok: 1 }),
  getParameter: (cmd) => ({ ...(cmd.featureCompatibilityVersion ? { featureCompatibilityVersion: { version: '7.0' } } : {}), ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['devdb'], parsed: {}, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => ({ id: { id: null }, timeoutMinutes: 30, ok: 1 }),
  logout: () => ({ ok: 1 }),
  commitTransaction: notInTransaction,
  abortTransaction: notInTransaction,
  serverStatus: (_cmd, ctx) => ({
    host: `${ctx.server.host}:${ctx.server.port}`,
    version: DEVDB_VERSION,
    process: 'devdb',
    pid: Long.fromNumber(process.pid),
    uptime: (Date.now() - ctx.server.startedAt.getTime()) / 1000,
    localTime: new Date(ctx.deployment.now()),
    connections: { current: 0, available: 1000 },
    repl: { setName: ctx.server.setName, isWritablePrimary: true },
    ok: 1,
  }),
  replSetGetStatus: (_cmd, ctx) => ({
    set: ctx.server.setName,
    myState: 1,
    members: [{ _id: 0, name: `${ctx.server.host}:${ctx.server.port}`, health: 1, state: 1, stateStr: 'PRIMARY', self: true }],
    ok: 1,
  }),
  saslStart: () => {
    throw new DevDbError(ErrorCode.IllegalOperation, 'devdb does not support authentication; connect without credentials');
  },
};
