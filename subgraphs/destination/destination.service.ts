/**
 * Destination rules: names, non-secret config per type, write-only credentials
 * (encrypted at rest, lib/crypto/credentialsVault.ts). Any caller reads; creating, changing
 * and deleting destinations needs the admin role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { parseJsonObject, type JsonObject } from '../../lib/subgraph/scalars.js';
import { requiredText } from '../../lib/subgraph/validation.js';
import type { ConnectionTest, ConnectorDeps } from './connectors/connector.js';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../lib/connectors/addressPolicy.js';
import { createConnector } from './connectors/createConnector.js';
import { asConnectorFailure } from '../../lib/connectors/failures.js';
import type { CredentialsVault } from '../../lib/crypto/credentialsVault.js';
import { validateConfig } from './destinationConfig.js';
import type { DestinationChanges, DestinationRecord, DestinationsRepository, DestinationType } from './destinations.repository.js';

export const DESTINATION_TYPES: readonly DestinationType[] = ['MARKETO', 'LINKEDIN', 'CLOUD_STORAGE', 'WEBHOOK'];
const MAX_NAME_LENGTH = 200;

export interface CreateDestinationInput {
  type: DestinationType;
  name: string;
  config?: JsonObject | null;
  credentials?: JsonObject | null;
}

export interface UpdateDestinationInput {
  name?: string | null;
  config?: JsonObject | null;
  credentials?: JsonObject | null;
}

function destinationType(value: string): DestinationType {
  if (!DESTINATION_TYPES.includes(value as DestinationType)) {
    throw badInput(`type must be one of ${DESTINATION_TYPES.join(', ')}`, { field: 'type' });
  }
  return value as DestinationType;
}

export class DestinationService {
  constructor(
    private readonly destinations: DestinationsRepository,
    private readonly deps: ServiceDeps & {
      credentials: CredentialsVault;
      connectorDeps: ConnectorDeps;
      /** How many activations that are not INACTIVE deliver to a destination: such a destination is not deleted. */
      liveActivations?: (destinationId: string) => Promise<number>;
    },
  ) {}

  private configChecks() {
    return { addressPolicy: this.deps.connectorDeps.addressPolicy ?? UNCONFIGURED_ADDRESS_POLICY };
  }

  list(args: PageArgs & { type?: DestinationType | null }): Promise<DestinationRecord[]> {
    return this.destinations.list(parsePageArgs(args), args.type ?? undefined);
  }

  async create(input: CreateDestinationInput): Promise<DestinationRecord> {
    requireRole(this.deps.principal, 'admin');
    const type = destinationType(input.type);
    const name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    const config = await validateConfig(type, input.config, this.configChecks());
    const credentials = input.credentials ? this.deps.credentials.seal(parseJsonObject(input.credentials)) : null;
    const now = this.deps.now();
    return this.destinations.insert(
      { id: this.deps.ids('dst'), type, name, config, credentialsUpdatedAt: credentials ? now : null, createdAt: now, updatedAt: now },
      credentials,
    );
  }

  async update(id: string, input: UpdateDestinationInput): Promise<DestinationRecord> {
    requireRole(this.deps.principal, 'admin');
    const changes: DestinationChanges = {};
    if (input.name !== undefined) changes.name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    if (input.config != null) {
      // The config rules depend on the type, which an update cannot change.
      const [current] = await this.destinations.findByIds([id]);
      if (!current) throw notFound('Destination', id);
      changes.config = await validateConfig(current.type, input.config, this.configChecks());
    }
    if (input.credentials !== undefined) {
      changes.credentials = input.credentials === null ? null : this.deps.credentials.seal(parseJsonObject(input.credentials));
    }
    const updated = await this.destinations.update(id, changes, this.deps.now());
    if (!updated) throw notFound('Destination', id);
    return updated;
  }

  /**
   * Authenticates against the destination with its stored credentials; sends no
   * audience data. The destination's refusal is an answer (`ok: false` with its
   * code), not an error: only a missing destination or role is an error.
   */
  async testConnection(id: string): Promise<ConnectionTest> {
    requireRole(this.deps.principal, 'admin');
    const found = await this.destinations.findWithCredentials(id);
    if (!found) throw notFound('Destination', id);
    try {
      const credentials = found.credentials ? this.deps.credentials.open(found.credentials) : null;
      const connector = createConnector({ type: found.destination.type, config: found.destination.config, credentials }, this.deps.connectorDeps);
      return await connector.testConnection();
    } catch (error) {
      const failure = asConnectorFailure(error);
      return { ok: false, code: failure.code, message: failure.message };
    }
  }

  async delete(id: string): Promise<string> {
    requireRole(this.deps.principal, 'admin');
    const live = (await this.deps.liveActivations?.(id)) ?? 0;
    if (live > 0) {
      throw new DomainError(ErrorCode.Conflict, `Destination ${JSON.stringify(id)} has ${live} activation(s) not yet INACTIVE; deactivate them first`, { details: { id, activations: live } });
    }
    if (!(await this.destinations.delete(id))) throw notFound('Destination', id);
    return id;
  }
}
