/** The destination subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import type { ConnectorDeps } from './connectors/connector.js';
import type { CredentialsVault } from './credentials.js';
import { DestinationService } from './destination.service.js';
import { DestinationsRepository } from './destinations.repository.js';
import { createDestinationLoaders, type DestinationLoaders } from './loaders.js';

export interface DestinationContext extends SubgraphContextBase {
  readonly loaders: DestinationLoaders;
  readonly services: { readonly destinations: DestinationService };
}

export function createDestinationContext(
  scope: RequestScope,
  deps: { ids: IdGenerator; credentials: CredentialsVault; connectorDeps: ConnectorDeps },
): DestinationContext {
  const destinations = new DestinationsRepository(scope.db);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createDestinationLoaders(destinations),
    services: Object.freeze({ destinations: new DestinationService(destinations, { ...serviceDeps(scope, deps.ids), credentials: deps.credentials, connectorDeps: deps.connectorDeps }) }),
  });
}
