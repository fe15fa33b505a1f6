/**
 * Configuration: read and validated once at start-up, then passed down as an
 * object. Nothing else reads `process.env`. Every variable is documented in
 * README.md and `.env.example`.
 */

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

  const logLevel = env.LOG_LEVEL ?? (mode === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    mode,
    mongodbUri,
    host: env.HOST || '127.0.0.1',
    ports,
    subgraphUrls,
    databasePrefix,
    logLevel,
  };
}
