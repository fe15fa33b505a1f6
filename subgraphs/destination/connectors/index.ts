/**
 * What the delivery engine uses: the connector interface and factory, the
 * shared call budget, and the failure type. The engine makes one budget per
 * process (over ApiBudgetRepository on the platform database) and one
 * token cache per process, and passes both in every connector's deps.
 */
export type {
  AttributeValue,
  ConnectionTest,
  Connector,
  ConnectorDeps,
  DeliveryBatch,
  DeliveryCounts,
  DeliveryMember,
  DeliveryOutcome,
  DestinationForConnector,
  DestinationMember,
  EnsureAudienceInput,
  FieldMapping,
  ListMembersQuery,
  MemberFailure,
  MemberResult,
  MemberType,
  TokenCache,
} from './connector.js';
export { createConnector } from './createConnector.js';
export { unlimitedBudget, withBudget, type BudgetLease, type BudgetLimits, type CallBudget } from '../../../lib/connectors/callBudget.js';
export { createSharedBudget, type BudgetSlots, type SharedBudgetOptions } from '../../../lib/connectors/sharedBudget.js';
export { ConnectorFailure, asConnectorFailure } from '../../../lib/connectors/failures.js';
export { backoffDelay, withRetries } from '../../../lib/connectors/retry.js';
export { MARKETO_LIMITS } from '../../../lib/marketo/marketoClient.js';
export { LINKEDIN_LIMITS } from './linkedin/linkedinClient.js';
export { signWebhookBody, verifyWebhookSignature, SIGNATURE_HEADER, IDEMPOTENCY_HEADER } from './webhook/signature.js';
