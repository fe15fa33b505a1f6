/**
 * The per-request facts every subgraph context starts from: who is calling and
 * in which sandbox (both from the verified gateway token), that sandbox's
 * database, the clock and a logger. Built from `RequestHeaders`, so HTTP and
 * websocket requests go through the same code.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Databases } from '../mongo/databases.js';
import type { Logger } from '../logger.js';
import type { Authenticate, Principal } from './auth.js';
import type { RequestHeaders } from './requestHeaders.js';

export interface RequestScope {
  readonly requestId: string;
  /** The sandbox named by the gateway token; request headers cannot change it. */
  readonly sandbox: string;
  readonly principal: Principal;
  /** This sandbox's database: only for binding repositories in a subgraph's context.ts. */
  readonly db: Db;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface RequestScopeDeps {
  databases: Databases;
  authenticate: Authenticate;
  now: () => Date;
  logger: Logger;
}

/** Throws a DomainError (UNAUTHENTICATED) that the transports turn into GraphQL errors. */
export async function buildRequestScope(headers: RequestHeaders, deps: RequestScopeDeps): Promise<RequestScope> {
  const principal = await deps.authenticate(headers);
  const { sandbox } = principal;
  const requestId = headers.get('x-request-id')?.slice(0, 100) || randomUUID();
  return Object.freeze({
    requestId,
    sandbox,
    principal,
    db: deps.databases.sandbox(sandbox),
    now: deps.now,
    logger: deps.logger.child({ requestId, sandbox, role: principal.role }),
  });
}
