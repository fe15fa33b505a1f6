/**
 * The one way to get a connector: from a destination's type, config and
 * decrypted credentials. A destination whose config or credentials cannot work
 * throws a permanent ConnectorFailure (INVALID_CONFIG, MISSING_CREDENTIALS,
 * BUCKET_NOT_SUPPORTED) that names what to fix.
 */
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import type { Connector, ConnectorDeps, DestinationForConnector } from './connector.js';
import { ConnectorFailure } from '../../../lib/connectors/failures.js';
import { UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { guardedFetch } from '../../../lib/connectors/guardedFetch.js';
import { createFileConnector, parseFileConfig } from './files/fileConnector.js';
import { createLinkedInConnector } from './linkedin/linkedinConnector.js';
import { LINKEDIN_VERSION } from './linkedin/linkedinClient.js';
import { createMarketoConnector } from './marketo/marketoConnector.js';
import { createWebhookConnector, WEBHOOK_BATCH_LIMIT } from './webhook/webhookConnector.js';

export function createConnector(destination: DestinationForConnector, unguarded: ConnectorDeps): Connector {
  const { config } = destination;
  const deps: ConnectorDeps = { ...unguarded, fetch: guardedFetch(unguarded.fetch, unguarded.addressPolicy ?? UNCONFIGURED_ADDRESS_POLICY) };
  switch (destination.type) {
    case 'MARKETO':
      return createMarketoConnector(
        {
          restUrl: httpUrl(config, 'restUrl'),
          identityUrl: httpUrl(config, 'identityUrl'),
          clientId: secret(destination.credentials, 'clientId'),
          clientSecret: secret(destination.credentials, 'clientSecret'),
        },
        deps,
        deps.marketoLimits,
      );
    case 'LINKEDIN': {
      const adAccount = typeof config.adAccount === 'number' ? String(config.adAccount) : config.adAccount;
      if (typeof adAccount !== 'string' || !/^\d+$/.test(adAccount)) throw invalid('config.adAccount must be the numeric id of a LinkedIn ad account');
      const version = config.linkedinVersion ?? LINKEDIN_VERSION;
      if (typeof version !== 'string' || !/^\d{6}$/.test(version)) throw invalid('config.linkedinVersion must be a version such as "202601" (YYYYMM)');
      return createLinkedInConnector(
        { apiUrl: httpUrl(config, 'apiUrl'), adAccount, accessToken: secret(destination.credentials, 'accessToken'), version },
        deps,
      );
    }
    case 'CLOUD_STORAGE':
      return createFileConnector(parseFileConfig(config), deps.fileSystem);
    case 'WEBHOOK': {
      const maxBatchSize = config.maxBatchSize ?? WEBHOOK_BATCH_LIMIT;
      if (typeof maxBatchSize !== 'number' || !Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > 10_000) {
        throw invalid('config.maxBatchSize must be an integer from 1 to 10000');
      }
      return createWebhookConnector({ url: httpUrl(config, 'url'), signingSecret: secret(destination.credentials, 'signingSecret'), maxBatchSize }, deps);
    }
  }
}

function invalid(message: string): ConnectorFailure {
  return new ConnectorFailure('INVALID_CONFIG', message, false);
}

function httpUrl(config: JsonObject, key: string): string {
  const value = config[key];
  try {
    if (typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol)) return value;
  } catch {
    // Reported below with the field's name.
  }
  throw invalid(`config.${key} must be an http or https URL`);
}

function secret(credentials: JsonObject | null, key: string): string {
  const value = credentials?.[key];
  if (typeof value !== 'string' || !value) throw new ConnectorFailure('MISSING_CREDENTIALS', `credentials.${key} is missing: set it with updateDestination`, false);
  return value;
}
