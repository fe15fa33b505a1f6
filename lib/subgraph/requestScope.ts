/**
 * The per-request facts every subgraph context starts from: which sandbox, who
 * is calling, that sandbox's database, the clock and a logger. Built from
 * `RequestHeaders`, so HTTP and websocket requests go through the same code.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Databases } from '../mongo/databases.js';
import type { Logger } from '../logger.js';
import { parseSandboxName } from '../sandbox.js';
import { authenticate, type Principal } from './auth.js';
import { SANDBOX_HEADER, type RequestHeaders } from './requestHeaders.js';

export interface RequestScope {
  readonly requestId: string;
  readonly sandbox: string;
  readonly principal: Principal;
  /** This sandbox's database: only for binding repositories in a subgraph's context.ts. */
  readonly db: Db;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface RequestScopeDeps {
  databases: Databases;
  now: () => Date;
  logger: Logger;
}

/** Throws a DomainError (INVALID_SANDBOX, later UNAUTHENTICATED) that the transports turn into GraphQL errors. */
export async function buildRequestScope(headers: RequestHeaders, deps: RequestScopeDeps): Promise<RequestScope> {
  const sandbox = parseSandboxName(headers.get(SANDBOX_HEADER));
  const principal = await authenticate(headers);
  const requestId = headers.get('x-request-id')?.slice(0, 100) || randomUUID();
  return Object.freeze({
    requestId,
    sandbox,
    principal,
    db: deps.databases.sandbox(sandbox),
    now: deps.now,
    logger: deps.logger.child({ requestId, sandbox }),
  });
}
