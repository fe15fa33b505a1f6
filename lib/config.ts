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
  /** Where the gateway reaches each subgraph (defaults to this host's ports). */
  subgraphUrls: Record<SubgraphName, string>;
  /** Database names: `<prefix>sb_<sandbox>` per sandbox, `<prefix>platform` for platform data. */
  databasePrefix: string;
  logLevel: string;
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
  /** Whether the gateway answers introspection queries (off by default in production). */
  introspection: boolean;
  limits: RequestLimits;
  subscriptions: SubscriptionLimits;
}

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
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxBodyBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_PORTS = { gateway: 4000, profile: 4001, account: 4002, segment: 4003, destination: 4004 };
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
    subgraphUrls,
    databasePrefix,
    logLevel,
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

  return {
    gatewaySecret,
    encryptionKey,
    bootstrapKey: env.CDP_BOOTSTRAP_KEY || undefined,
    rateLimitPerMinute: positive('CDP_RATE_LIMIT_PER_MINUTE', 6000),
    introspection: introspectionRaw ? introspectionRaw === 'true' : mode !== 'production',
    limits: {
      maxDepth: positive('CDP_MAX_QUERY_DEPTH', 12),
      maxCost: positive('CDP_MAX_QUERY_COST', 50_000),
      maxAliases: positive('CDP_MAX_ALIASES', 100),
      maxTokens: positive('CDP_MAX_TOKENS', 5_000),
      maxBodyBytes: positive('CDP_MAX_BODY_BYTES', 2 * 1024 * 1024),
    },
    subscriptions: {
      maxPerConnection: positive('CDP_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50),
      maxPerKey: positive('CDP_MAX_SUBSCRIPTIONS_PER_KEY', 200),
      maxConnectionsPerKey: positive('CDP_MAX_WS_CONNECTIONS_PER_KEY', 20),
      queueLimit: positive('CDP_SUBSCRIPTION_QUEUE_LIMIT', 1_000),
      recheckIntervalMs: positive('CDP_WS_KEY_RECHECK_MS', 2_000),
    },
  };
}
