/** A stored source's connector, its credentials opened: used by the sync job and `testSource`. */
import { createSourceConnector } from './createSourceConnector.js';
import type { SourceConnector, SourceConnectorDeps } from './connectors/sourceConnector.js';
import { createCredentialsVault } from '../../../lib/crypto/credentialsVault.js';
import type { SourceRecord, SourcesRepository } from './sources.repository.js';
import { ConnectorFailure } from '../../../lib/connectors/failures.js';

export async function openSourceConnector(
  source: SourceRecord,
  sources: SourcesRepository,
  encryptionKey: string,
  deps: SourceConnectorDeps,
): Promise<SourceConnector> {
  const found = await sources.findWithCredentials(source.id);
  if (!found) throw new ConnectorFailure('SOURCE_DELETED', 'The source was deleted', false);
  const credentials = found.credentials ? createCredentialsVault(encryptionKey).open(found.credentials) : null;
  // A Marketo instance synced with a Salesforce org joins that org's records: the sandbox's Salesforce source names it.
  let crmInstance: string | undefined;
  if (source.type === 'MARKETO' && !source.config.crmInstance) {
    const orgs = (await sources.list(2, 'SALESFORCE')).map((other) => other.config.orgId).filter((org): org is string => typeof org === 'string');
    if (orgs.length === 1) crmInstance = orgs[0];
  }
  return createSourceConnector({ type: source.type, config: found.source.config, credentials, ...(crmInstance ? { crmInstance } : {}) }, deps);
}
