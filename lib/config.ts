/**
 * Configuration: read and validated once at start-up, then passed down as an
 * object. Nothing else reads `process.env`. Every variable is documented in
 * README.md and `.env.example`.
 */
import { randomBytes } from 'node:crypto';
import { parseEncryptionKey } from './crypto/secretBox.js';

export const SUBGRAPH_NAMES = ['profile', 'account', 'segment', 'destination'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export type RuntimeMode = 'development' | 'production' | 'test';

export interface Config {
  mode: RuntimeMode;
  /** A real deployment's connection string; unset means "find one" (lib/mongo/findMongo.ts). */
  mongodbUri: string | undefined;
  /** Interface the HTTP servers bind to. */
  host: string;
  ports: { gateway: number } & Record<SubgraphName, number>;
  /** Where a worker run on its own (`npm run start:worker`) serves /metrics; 0 picks a free port. */
  workerMetricsPort: number;
  /** Where the gateway reaches each subgraph (defaults to this host's ports). */
  subgraphUrls: Record<SubgraphName, string>;
  /** Database names: `<prefix>sb_<sandbox>` per sandbox, `<prefix>platform` for platform data. */
  databasePrefix: string;
  logLevel: string;
  /** Debug switch: let request bodies and variables (profile data) into the logs. Off unless CDP_LOG_REQUEST_DATA=true. */
  logRequestData: boolean;
  security: SecurityConfig;
  audiences: AudienceSettings;
}

/** How audiences keep their memberships (what jobs and services that write them need). */
export interface AudienceSettings {
  /** Days an exited membership is kept before MongoDB's TTL index removes it. */
  exitedMembershipRetentionDays: number;
}

export const DEFAULT_AUDIENCE_SETTINGS: AudienceSettings = { exitedMembershipRetentionDays: 30 };

export interface SecurityConfig {
  /** Signs the short-lived tokens the gateway forwards to subgraphs (HS256, at least 32 characters). */
  gatewaySecret: string;
  /** AES-256-GCM key for secrets at rest (32 bytes, hex or base64). */
  encryptionKey: string;
  /** The embedded default's admin key for sandbox `default`; generated and printed once when unset. */
  bootstrapKey: string | undefined;
  /** Requests per minute per API key, answered with 429 and Retry-After beyond it. */
  rateLimitPerMinute: number;
  /** Failed authentications per minute per client address before further attempts are refused unchecked. */
  authFailuresPerMinute: number;
  /** Whether the gateway answers introspection queries (off by default in production). */
  introspection: boolean;
  /**
   * Whether destinations and sources may reach loopback and private addresses (CDP_ALLOW_PRIVATE_DESTINATIONS;
   * on outside production, for local mock servers). Metadata and link-local addresses are refused always.
   */
  allowPrivateDestinations: boolean;
  limits: RequestLimits;
  subscriptions: SubscriptionLimits;
  uploads: UploadLimits;
}

/** Bounds on the export files clients upload for imports (stored in chunks until the import ends). */
export interface UploadLimits {
  /** Bytes of one import's file. */
  maxImportBytes: number;
  /** Bytes of uploaded files a sandbox may hold at once (imports uploading, queued or running). */
  sandboxQuotaBytes: number;
  /** Hours an upload may go without a chunk before it is abandoned and its chunks removed. */
  expiryHours: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxImportBytes: 1024 ** 3, sandboxQuotaBytes: 4 * 1024 ** 3, expiryHours: 24 };

/**
 * Bounds on live subscriptions at the gateway. Per-connection caps hold exactly;
 * per-key caps are counted by each gateway process, so with N gateway processes
 * a key may hold up to N times its cap in all.
 */
export interface SubscriptionLimits {
  /** Subscriptions open at once on one websocket connection. */
  maxPerConnection: number;
  /** Subscriptions open at once per API key (in one gateway process). */
  maxPerKey: number;
  /** Websocket connections open at once per API key (in one gateway process). */
  maxConnectionsPerKey: number;
  /** Events one subscription may have waiting for a slow client before it is closed (SLOW_CONSUMER). */
  queueLimit: number;
  /** How often open connections' keys are checked again, so a revoked key's subscriptions end. */
  recheckIntervalMs: number;
}

export interface RequestLimits {
  maxDepth: number;
  /** Estimated objects and fields an operation may resolve, with variables and schema defaults applied (gateway/limits/operationCost.ts). */
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  /** One body limit for the gateway, the admin API and the subgraphs. */
  maxBodyBytes: number;
  /** Most elements of any list in a request body, checked before the body is parsed. */
  maxListLength: number;
  /** HTTP requests one API key may have in flight at once (per gateway process). */
  maxInFlightPerKey: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_PORTS = { gateway: 4000, profile: 4001, account: 4002, segment: 4003, destination: 4004 };
const DEFAULT_WORKER_METRICS_PORT = 4005;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      problems.push(`${name} must be a port number from 0 to 65535 (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return value;
  };

  const url = (name: string, fallback: string): string => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
      return raw;
    } catch {
      problems.push(`${name} must be an http(s) URL (got ${JSON.stringify(raw)})`);
      return fallback;
    }
  };

  const modeRaw = env.CDP_MODE ?? env.NODE_ENV ?? 'development';
  const mode: RuntimeMode = modeRaw === 'production' || modeRaw === 'test' ? modeRaw : 'development';

  const mongodbUri = env.MONGODB_URI || undefined;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }

  const ports = {
    gateway: port('GATEWAY_PORT', DEFAULT_PORTS.gateway),
    profile: port('PROFILE_PORT', DEFAULT_PORTS.profile),
    account: port('ACCOUNT_PORT', DEFAULT_PORTS.account),
    segment: port('SEGMENT_PORT', DEFAULT_PORTS.segment),
    destination: port('DESTINATION_PORT', DEFAULT_PORTS.destination),
  };
  const workerMetricsPort = port('WORKER_METRICS_PORT', DEFAULT_WORKER_METRICS_PORT);

  const subgraphUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [
      name,
      url(`${name.toUpperCase()}_URL`, `http://localhost:${ports[name]}/graphql`),
    ]),
  ) as Record<SubgraphName, string>;

  const databasePrefix = env.CDP_DB_PREFIX ?? 'cdp_';
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(databasePrefix)) {
    problems.push('CDP_DB_PREFIX must be 1-16 lowercase letters, digits or underscores, starting with a letter');
  }

  const logLevel = env.CDP_LOG_LEVEL ?? (mode === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`CDP_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logRequestDataRaw = env.CDP_LOG_REQUEST_DATA;
  if (logRequestDataRaw !== undefined && logRequestDataRaw !== '' && !['true', 'false'].includes(logRequestDataRaw)) {
    problems.push('CDP_LOG_REQUEST_DATA must be true or false');
  }

  const security = readSecurity(env, mode, problems);

  const retentionRaw = env.CDP_EXITED_MEMBERSHIP_RETENTION_DAYS;
  const exitedMembershipRetentionDays =
    retentionRaw === undefined || retentionRaw === '' ? DEFAULT_AUDIENCE_SETTINGS.exitedMembershipRetentionDays : Number(retentionRaw);
  if (!Number.isInteger(exitedMembershipRetentionDays) || exitedMembershipRetentionDays < 1 || exitedMembershipRetentionDays > 3650) {
    problems.push(`CDP_EXITED_MEMBERSHIP_RETENTION_DAYS must be a whole number of days from 1 to 3650 (got ${JSON.stringify(retentionRaw)})`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    mode,
    mongodbUri,
    host: env.HOST || '127.0.0.1',
    ports,
    workerMetricsPort,
    subgraphUrls,
    databasePrefix,
    logLevel,
    logRequestData: logRequestDataRaw === 'true',
    security,
    audiences: { exitedMembershipRetentionDays },
  };
}

function readSecurity(env: NodeJS.ProcessEnv, mode: RuntimeMode, problems: string[]): SecurityConfig {
  const positive = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`${name} must be a whole number of at least 1 (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return value;
  };

  // In one process (`npm start`, tests) random secrets are fine; separate processes must share them.
  const secret = (name: string, generate: () => string): string => {
    const raw = env[name];
    if (raw) return raw;
    if (mode === 'production') problems.push(`${name} is required in production (see .env.example)`);
    return generate();
  };

  const gatewaySecret = secret('CDP_GATEWAY_SECRET', () => randomBytes(32).toString('base64url'));
  if (gatewaySecret.length < 32) problems.push('CDP_GATEWAY_SECRET must be at least 32 characters');

  const encryptionKey = secret('CDP_ENCRYPTION_KEY', () => randomBytes(32).toString('hex'));
  try {
    parseEncryptionKey(encryptionKey);
  } catch {
    problems.push('CDP_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
  }

  const introspectionRaw = env.CDP_INTROSPECTION;
  if (introspectionRaw !== undefined && introspectionRaw !== '' && !['true', 'false'].includes(introspectionRaw)) {
    problems.push('CDP_INTROSPECTION must be true or false');
  }

  const allowPrivateRaw = env.CDP_ALLOW_PRIVATE_DESTINATIONS;
  if (allowPrivateRaw !== undefined && allowPrivateRaw !== '' && !['true', 'false'].includes(allowPrivateRaw)) {
    problems.push('CDP_ALLOW_PRIVATE_DESTINATIONS must be true or false');
  }

  return {
    gatewaySecret,
    encryptionKey,
    bootstrapKey: env.CDP_BOOTSTRAP_KEY || undefined,
    rateLimitPerMinute: positive('CDP_RATE_LIMIT_PER_MINUTE', 6000),
    authFailuresPerMinute: positive('CDP_AUTH_FAILURES_PER_MINUTE', 30),
    introspection: introspectionRaw ? introspectionRaw === 'true' : mode !== 'production',
    allowPrivateDestinations: allowPrivateRaw ? allowPrivateRaw === 'true' : mode !== 'production',
    limits: {
      maxDepth: positive('CDP_MAX_QUERY_DEPTH', 12),
      maxCost: positive('CDP_MAX_QUERY_COST', 50_000),
      maxAliases: positive('CDP_MAX_ALIASES', 100),
      maxTokens: positive('CDP_MAX_TOKENS', 5_000),
      maxBodyBytes: positive('CDP_MAX_BODY_BYTES', 2 * 1024 * 1024),
      maxListLength: positive('CDP_MAX_LIST_LENGTH', 10_000),
      maxInFlightPerKey: positive('CDP_MAX_IN_FLIGHT_PER_KEY', 50),
    },
    subscriptions: {
      maxPerConnection: positive('CDP_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50),
      maxPerKey: positive('CDP_MAX_SUBSCRIPTIONS_PER_KEY', 200),
      maxConnectionsPerKey: positive('CDP_MAX_WS_CONNECTIONS_PER_KEY', 20),
      queueLimit: positive('CDP_SUBSCRIPTION_QUEUE_LIMIT', 1_000),
      recheckIntervalMs: positive('CDP_WS_KEY_RECHECK_MS', 2_000),
    },
    uploads: {
      maxImportBytes: positive('CDP_IMPORT_MAX_BYTES', DEFAULT_UPLOAD_LIMITS.maxImportBytes),
      sandboxQuotaBytes: positive('CDP_IMPORT_SANDBOX_QUOTA_BYTES', DEFAULT_UPLOAD_LIMITS.sandboxQuotaBytes),
      expiryHours: positive('CDP_IMPORT_UPLOAD_EXPIRY_HOURS', DEFAULT_UPLOAD_LIMITS.expiryHours),
    },
  };
}
