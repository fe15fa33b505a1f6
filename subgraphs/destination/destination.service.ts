/**
 * Destination rules: names, non-secret config per type, write-only credentials
 * (encrypted at rest, see credentials.ts). Any caller reads; creating, changing
 * and deleting destinations needs the admin role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { parseJsonObject, type JsonObject, type JsonValue } from '../../lib/subgraph/scalars.js';
import { requiredText } from '../../lib/subgraph/validation.js';
import type { ConnectionTest, ConnectorDeps } from './connectors/connector.js';
import { createConnector } from './connectors/createConnector.js';
import { asConnectorFailure } from './connectors/failures.js';
import type { CredentialsVault } from './credentials.js';
import type { DestinationChanges, DestinationRecord, DestinationsRepository, DestinationType } from './destinations.repository.js';

export const DESTINATION_TYPES: readonly DestinationType[] = ['MARKETO', 'LINKEDIN', 'CLOUD_STORAGE', 'WEBHOOK'];
const MAX_NAME_LENGTH = 200;

/**
 * Key names that hold secrets, anywhere in the name (`secretAccessKey`,
 * `headers.Authorization`); such values belong in `credentials`, never returned.
 */
const SECRET_KEY = /(password|passwd|secret|token|api_?key|private_?key|access_?key|authori[sz]ation|credential|cookie)/i;
/** Where a secret is fetched from is not a secret (`tokenUrl`, `tokenEndpoint`). */
const LOCATION_KEY = /(url|uri|endpoint)$/i;

/** Cloud metadata services and other link-local hosts: a webhook must never reach them. */
const LINK_LOCAL_HOST = /^(169\.254\.\d{1,3}\.\d{1,3}|\[?fe80:[0-9a-f:]*\]?|metadata\.google\.internal)$/i;

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

function findSecretKey(value: JsonValue, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findSecretKey(item, `${path}[${index}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key) && !LOCATION_KEY.test(key)) return `${path}.${key}`;
      const found = findSecretKey(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

export function validateConfig(type: DestinationType, raw: JsonObject | null | undefined): JsonObject {
  const config = parseJsonObject(raw ?? {});
  const secret = findSecretKey(config, 'config');
  if (secret) {
    throw badInput(`${secret} looks like a secret; send secrets in credentials, which are stored but never returned`, {
      field: 'config',
    });
  }
  if (type === 'WEBHOOK') validateWebhookUrl(config.url);
  return config;
}

function validateWebhookUrl(raw: JsonValue | undefined): void {
  let url: URL | undefined;
  try {
    url = typeof raw === 'string' ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw badInput('A WEBHOOK destination needs config.url, an http or https URL', { field: 'config.url' });
  }
  if (url.username || url.password) {
    throw badInput('config.url must not carry a user or password; send them in credentials', { field: 'config.url' });
  }
  if (LINK_LOCAL_HOST.test(url.hostname)) {
    throw badInput('config.url must not point at a link-local or cloud metadata address', { field: 'config.url' });
  }
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

  list(args: PageArgs & { type?: DestinationType | null }): Promise<DestinationRecord[]> {
    return this.destinations.list(parsePageArgs(args), args.type ?? undefined);
  }

  async create(input: CreateDestinationInput): Promise<DestinationRecord> {
    requireRole(this.deps.principal, 'admin');
    const type = destinationType(input.type);
    const name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    const config = validateConfig(type, input.config);
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
      changes.config = validateConfig(current.type, input.config);
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
