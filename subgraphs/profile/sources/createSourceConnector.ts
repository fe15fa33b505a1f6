/**
 * The one way to get a source connector: from a source's type, config and
 * opened credentials. Config or credentials that cannot work throw a permanent
 * ConnectorFailure (INVALID_CONFIG, MISSING_CREDENTIALS) naming what to fix.
 * Every request the connector sends is judged by the address policy first
 * (SOURCE_ADDRESS_REFUSED), so a stored URL cannot reach a metadata service or,
 * in production, a private address, even when its DNS changes after it was stored.
 */
import { systemLookup, UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { ConnectorFailure } from '../../../lib/connectors/failures.js';
import { guardedFetch, SOURCE_ADDRESS_REFUSED } from '../../../lib/connectors/guardedFetch.js';
import { MarketoClient } from '../../../lib/marketo/marketoClient.js';
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import { MarketoSource } from './connectors/marketo/marketoSource.js';
import { SalesforceClient } from './connectors/salesforce/salesforceClient.js';
import { SalesforceSource } from './connectors/salesforce/salesforceSource.js';
import type { SourceConnector, SourceConnectorDeps } from './connectors/sourceConnector.js';
import type { SourceType } from './sources.repository.js';

export interface SourceForConnector {
  type: SourceType;
  config: JsonObject;
  credentials: JsonObject | null;
  /** Marketo: the org id of the sandbox's Salesforce source, when config.crmInstance does not name one. */
  crmInstance?: string;
}

export function createSourceConnector(source: SourceForConnector, unguarded: SourceConnectorDeps): SourceConnector {
  const { config } = source;
  const deps: SourceConnectorDeps = {
    ...unguarded,
    fetch: guardedFetch(unguarded.fetch, unguarded.addressPolicy ?? UNCONFIGURED_ADDRESS_POLICY, unguarded.lookup ?? systemLookup, SOURCE_ADDRESS_REFUSED),
  };
  switch (source.type) {
    case 'MARKETO': {
      const client = new MarketoClient(
        {
          restUrl: httpUrl(config, 'restUrl'),
          identityUrl: httpUrl(config, 'identityUrl'),
          clientId: secret(source.credentials, 'clientId'),
          clientSecret: secret(source.credentials, 'clientSecret'),
        },
        deps,
      );
      const crmInstance = optionalText(config, 'crmInstance') ?? source.crmInstance;
      const backfillFrom = optionalText(config, 'backfillFrom');
      return new MarketoSource(
        client,
        {
          instanceId: requiredText(config, 'instanceId'),
          ...(crmInstance ? { crmInstance } : {}),
          ...(backfillFrom ? { backfillFrom: date(backfillFrom, 'backfillFrom') } : {}),
        },
        deps,
      );
    }
    case 'SALESFORCE': {
      const client = new SalesforceClient(
        {
          instanceUrl: httpUrl(config, 'instanceUrl'),
          loginUrl: httpUrl(config, 'loginUrl'),
          apiVersion: optionalText(config, 'apiVersion') ?? '62.0',
          clientId: secret(source.credentials, 'clientId'),
          clientSecret: secret(source.credentials, 'clientSecret'),
          ...(typeof config.maxApiUsagePercent === 'number' ? { maxApiUsagePercent: config.maxApiUsagePercent } : {}),
        },
        deps,
      );
      return new SalesforceSource(client, { orgId: requiredText(config, 'orgId') }, deps);
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

function requiredText(config: JsonObject, key: string): string {
  const value = optionalText(config, key);
  if (!value) throw invalid(`config.${key} is required`);
  return value;
}

function optionalText(config: JsonObject, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`config.${key} must be a string`);
  return value;
}

function date(value: string, key: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw invalid(`config.${key} must be an ISO-8601 date, e.g. 2025-01-01`);
  return parsed;
}

function secret(credentials: JsonObject | null, key: string): string {
  const value = credentials?.[key];
  if (typeof value !== 'string' || !value) throw new ConnectorFailure('MISSING_CREDENTIALS', `credentials.${key} is missing: set it with updateSource`, false);
  return value;
}
