/** The destination subgraph's request context: services and loaders bound to the request's sandbox. */
import type { Databases } from '../../lib/mongo/databases.js';
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { ActivationService } from './activations/activation.service.js';
import { ActivationsRepository } from './activations/activations.repository.js';
import type { ActivationScheduling } from './activations/activationScheduler.js';
import type { ConnectorDeps } from './connectors/connector.js';
import type { CredentialsVault } from '../../lib/crypto/credentialsVault.js';
import { DestinationService } from './destination.service.js';
import { DestinationsRepository } from './destinations.repository.js';
import { createDestinationLoaders, type DestinationLoaders } from './loaders.js';

export interface DestinationContext extends SubgraphContextBase {
  readonly loaders: DestinationLoaders;
  readonly services: { readonly destinations: DestinationService; readonly activations: ActivationService };
}

export interface DestinationContextDeps {
  ids: IdGenerator;
  credentials: CredentialsVault;
  connectorDeps: ConnectorDeps;
  databases: Databases;
  scheduling: ActivationScheduling;
  /** How long after activating its backfill starts. */
  backfillDelayMs: number;
}

export function createDestinationContext(scope: RequestScope, deps: DestinationContextDeps): DestinationContext {
  const destinations = new DestinationsRepository(scope.db);
  const base = serviceDeps(scope, deps.ids);
  const activations = new ActivationService({
    ...base,
    sandbox: scope.sandbox,
    db: scope.db,
    platform: deps.databases.platform(),
    vault: deps.credentials,
    connectorDeps: deps.connectorDeps,
    scheduling: deps.scheduling,
    backfillDelayMs: deps.backfillDelayMs,
  });
  const activationsInUse = new ActivationsRepository(scope.db);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createDestinationLoaders(destinations, activations),
    services: Object.freeze({
      destinations: new DestinationService(destinations, {
        ...base,
        credentials: deps.credentials,
        connectorDeps: deps.connectorDeps,
        liveActivations: (id) => activationsInUse.countLive(id),
      }),
      activations,
    }),
  });
}
