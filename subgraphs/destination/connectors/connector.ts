/**
 * The one interface every destination connector implements, shaped for the
 * delivery engine: it hands a connector batches of adds and removes and gets back
 * one result per member, so it can retry only what failed (and only when the
 * failure is retryable) and dead-letter the rest after its limit.
 *
 * Connectors are idempotent by design: adding a member twice or removing one the
 * destination does not hold is harmless there, so a batch may always be sent again.
 */
import type { Logger } from '../../../lib/logger.js';
import type { JsonObject } from '../../../lib/subgraph/scalars.js';
import type { DestinationType } from '../destinations.repository.js';
import type { BudgetLimits, CallBudget } from '../../../lib/connectors/callBudget.js';
import type { FetchFn } from '../../../lib/connectors/http.js';
import type { TokenCache } from '../../../lib/connectors/tokenCache.js';
import type { FileSystem } from './files/fileSystem.js';
import type { AddressPolicy } from '../../../lib/connectors/addressPolicy.js';

export type MemberType = 'PERSON' | 'ACCOUNT';
export type AttributeValue = string | number | boolean | null;
export type ConsentValue = 'y' | 'n' | null;

/** A member as the engine resolves it: identities by namespace and the fields the mapping names. */
export interface DeliveryMember {
  /** The profile id (people) or account id (accounts). */
  memberId: string;
  memberType: MemberType;
  /** Identities by namespace, e.g. `{ email, ecid }`; accounts carry `domain` here or in attributes. */
  identities: { readonly email?: string | null; readonly ecid?: string | null; readonly [namespace: string]: string | null | undefined };
  /** Values by source field path (`firstName`, `account.name`), renamed by the mapping on the way out. */
  attributes: Readonly<Record<string, AttributeValue>>;
  /** `consents.marketingEmail`: "n" keeps a person out of Marketo, LinkedIn and webhooks. */
  consentMarketingEmail?: ConsentValue;
}

/** One mapped field: a source path of the member and the destination's field name. */
export interface FieldMapping {
  source: string;
  destination: string;
}

export interface DeliveryBatch {
  activationId: string;
  segmentId: string;
  /** The delivery run; file names and webhook idempotency keys derive from it. */
  runId: string;
  /** This batch's place in its run (0, 1, ...), so each batch of a run names its own files. @default 0 */
  sequence?: number;
  memberType: MemberType;
  adds: readonly DeliveryMember[];
  removes: readonly DeliveryMember[];
  /** The activation's mapping; empty sends each attribute under its own name. */
  mapping: readonly FieldMapping[];
  /** The activation's per-type options (Marketo `{ listId, createMissingLeads }`, files `{ mode }`, LinkedIn `{ dmpSegmentId }`). */
  options: JsonObject;
}

export interface MemberFailure {
  memberId: string;
  status: 'failed';
  operation: 'add' | 'remove';
  /** Stable, prefixed by the destination: `MARKETO_1004`, `LINKEDIN_429`, `HTTP_503`, `NETWORK_ERROR`, ... */
  code: string;
  message: string;
  /** True for rate limits, timeouts, 5xx and network errors: the same member may be sent again later. */
  retryable: boolean;
}

export type MemberResult =
  | { memberId: string; status: 'delivered' }
  | { memberId: string; status: 'removed' }
  | { memberId: string; status: 'excluded'; reason: 'CONSENT' }
  | MemberFailure;

export interface DeliveryCounts {
  delivered: number;
  removed: number;
  failed: number;
  excluded: number;
}

export interface DeliveryOutcome {
  /** One result per member of the batch (adds, then removes), in batch order. */
  results: MemberResult[];
  counts: DeliveryCounts;
}

export type ConnectionTest = { ok: true } | { ok: false; code: string; message: string };

/** What the destination holds now, for reconcile: a key the engine can compare with its members. */
export interface DestinationMember {
  /** Marketo: the lead's email (lowercased); files: the member id. */
  key: string;
  /** The destination's own id (Marketo lead id), when it has one. */
  externalId?: string;
  /** Files: the row's status. */
  status?: string;
}

export interface ListMembersQuery {
  activationId: string;
  memberType: MemberType;
  options: JsonObject;
  /** Files: which run's files to read. */
  runId?: string;
}

export interface EnsureAudienceInput {
  /** The name shown in the destination, e.g. the segment's name. */
  name: string;
  memberType: MemberType;
  /** The id stored from an earlier call; when present it is returned unchanged. */
  existingId?: string | null;
}

export interface Connector {
  readonly type: DestinationType;
  /** The most members one `deliver` call should carry; larger batches are split inside, at the API's own limits. */
  readonly maxBatchSize: number;
  /** Authenticates against the destination; sends no member data. */
  testConnection(): Promise<ConnectionTest>;
  /** Problems with an activation's mapping or options for this destination (empty when fine). */
  checkActivation(activation: { memberType: MemberType; mapping: readonly FieldMapping[]; options: JsonObject }): string[];
  deliver(batch: DeliveryBatch): Promise<DeliveryOutcome>;
  /** Reads the destination's current list back, where its API allows. */
  listMembers?(query: ListMembersQuery): AsyncIterable<DestinationMember>;
  /** Creates the destination-side audience (a LinkedIn DMP segment) once; returns the id to store. */
  ensureAudience?(input: EnsureAudienceInput): Promise<string>;
}

export interface DestinationForConnector {
  type: DestinationType;
  config: JsonObject;
  /** Decrypted credentials (lib/crypto/credentialsVault.ts); null when none are stored. */
  credentials: JsonObject | null;
}

export type { FetchFn, TokenCache };


export interface ConnectorDeps {
  fetch: FetchFn;
  /**
   * Which addresses requests may reach (checked before each one, see guardedFetch.ts). The destination
   * subgraph and the delivery worker pass the config's; without one, loopback and private addresses
   * are allowed (tests' local mocks) and metadata and link-local ones refused.
   */
  addressPolicy?: AddressPolicy;
  now: () => Date;
  /** Resolves after `ms`; tests pass one that only records. */
  sleep: (ms: number) => Promise<void>;
  budget: CallBudget;
  logger: Logger;
  /** In [0, 1): jitter of backoff delays. @default Math.random */
  random?: () => number;
  tokenCache?: TokenCache;
  /** How many times one call is tried on rate limits, timeouts, 5xx and network errors. @default 4 */
  maxAttempts?: number;
  /** Per-request timeout. @default 30 000 ms */
  requestTimeoutMs?: number;
  /** Marketo's limits per instance, when an instance has other ones than the published 100 per 20 s and 10 at once. */
  marketoLimits?: BudgetLimits;
  /** The files connector's file operations. @default node:fs */
  fileSystem?: FileSystem;
}
