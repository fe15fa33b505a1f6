/**
 * A destination's `config` as it may be stored: no secrets in it (configSecrets.ts),
 * and no URL that points where the platform must not call (lib/connectors/addressPolicy.ts,
 * judged again before every request). Both refusals are BAD_USER_INPUT with
 * `extensions.reason` (SECRET_IN_CONFIG, DESTINATION_ADDRESS_REFUSED) and the field
 * at fault; neither repeats the value.
 */
import { DomainError, ErrorCode, badInput } from '../../lib/errors.js';
import { parseJsonObject, type JsonObject, type JsonValue } from '../../lib/subgraph/scalars.js';
import { lookupWithin, refusedDestination, systemLookup, type AddressPolicy, type Lookup } from '../../lib/connectors/addressPolicy.js';
import { findSecretInConfig } from './configSecrets.js';
import type { DestinationType } from './destinations.repository.js';

/** How long a stored URL's host may take to resolve; past it the check is left to delivery time. */
const STORE_LOOKUP_TIMEOUT_MS = 2_000;

export interface ConfigCheckDeps {
  addressPolicy: AddressPolicy;
  lookup?: Lookup;
}

function refused(reason: string, field: string, message: string): DomainError {
  return new DomainError(ErrorCode.BadUserInput, message, { details: { field }, extensions: { reason } });
}

/** Every http(s) URL in the config, with its path (`config.url`, `config.restUrl`). */
function urlsIn(value: JsonValue, path: string, found: Array<{ path: string; url: URL }> = []): Array<{ path: string; url: URL }> {
  if (typeof value === 'string' && /^https?:\/\//i.test(value)) {
    try {
      found.push({ path, url: new URL(value) });
    } catch {
      // Not a URL after all: each connector reports its own malformed fields.
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => urlsIn(item, `${path}[${index}]`, found));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) urlsIn(item, `${path}.${key}`, found);
  }
  return found;
}

function requireWebhookUrl(raw: JsonValue | undefined): void {
  let url: URL | undefined;
  try {
    url = typeof raw === 'string' ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw badInput('A WEBHOOK destination needs config.url, an http or https URL', { field: 'config.url' });
  }
}

export async function validateConfig(type: DestinationType, raw: JsonObject | null | undefined, deps: ConfigCheckDeps): Promise<JsonObject> {
  const config = parseJsonObject(raw ?? {});
  const secret = findSecretInConfig(config);
  if (secret) {
    throw refused(
      'SECRET_IN_CONFIG',
      secret.path,
      `${secret.path} looks like ${secret.what}; send secrets in credentials, which are stored encrypted and never returned`,
    );
  }
  if (type === 'WEBHOOK') requireWebhookUrl(config.url);
  const lookup = lookupWithin(deps.lookup ?? systemLookup, STORE_LOOKUP_TIMEOUT_MS);
  for (const { path, url } of urlsIn(config, 'config')) {
    const why = await refusedDestination(url, deps.addressPolicy, lookup);
    if (why) throw refused('DESTINATION_ADDRESS_REFUSED', path, `${path} must not point at ${why}`);
  }
  return config;
}
