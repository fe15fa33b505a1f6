/**
 * The fields every subgraph context has. A subgraph's own context adds its
 * per-request loaders and its services bound to the request's sandbox database
 * and caller. Contexts are frozen: nothing in a request may swap the sandbox or
 * principal.
 */
import type { Principal } from '../auth/roles.js';
import type { IdGenerator } from './ids.js';
import type { RequestScope } from './requestScope.js';

export type SubgraphContextBase = Omit<RequestScope, 'db'>;

export function contextBase(scope: RequestScope): SubgraphContextBase {
  const { db: _db, ...base } = scope;
  return base;
}

/**
 * What every service is constructed with, per request: the caller (services
 * enforce roles with `requireRole`), the clock and the id generator.
 */
export interface ServiceDeps {
  readonly principal: Principal;
  readonly now: () => Date;
  readonly ids: IdGenerator;
}

export function serviceDeps(scope: RequestScope, ids: IdGenerator): ServiceDeps {
  return Object.freeze({ principal: scope.principal, now: scope.now, ids });
}
