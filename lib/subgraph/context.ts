/**
 * The fields every subgraph context has. A subgraph's own context adds its
 * per-request loaders and its services bound to the request's sandbox database.
 * Contexts are frozen: nothing in a request may swap the sandbox or principal.
 */
import type { RequestScope } from './requestScope.js';

export type SubgraphContextBase = Omit<RequestScope, 'db'>;

export function contextBase(scope: RequestScope): SubgraphContextBase {
  const { db: _db, ...base } = scope;
  return base;
}
