/** loadConfig: settings read once at start, refused together with a message naming each variable to fix. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

const PRODUCTION = {
  CDP_MODE: 'production',
  CDP_GATEWAY_SECRET: 'a-production-gateway-secret-of-32-chars-or-more',
  CDP_ENCRYPTION_KEY: 'ab'.repeat(32),
};

/** The problems loadConfig lists for `env`; fails when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig in production', () => {
  it('accepts complete settings, with introspection off', () => {
    const config = loadConfig(PRODUCTION);
    expect(config.mode).toBe('production');
    expect(config.security.gatewaySecret).toBe(PRODUCTION.CDP_GATEWAY_SECRET);
    expect(config.security.encryptionKey).toBe(PRODUCTION.CDP_ENCRYPTION_KEY);
    expect(config.security.introspection).toBe(false);
  });

  it('refuses to make up the secrets every process must share, naming both', () => {
    expect(problemsOf({ CDP_MODE: 'production' })).toEqual([
      'CDP_GATEWAY_SECRET is required in production (see .env.example)',
      'CDP_ENCRYPTION_KEY is required in production (see .env.example)',
    ]);
    expect(problemsOf({ ...PRODUCTION, CDP_ENCRYPTION_KEY: '' })).toEqual(['CDP_ENCRYPTION_KEY is required in production (see .env.example)']);
  });

  it('refuses a weak gateway secret and a malformed encryption key', () => {
    expect(problemsOf({ ...PRODUCTION, CDP_GATEWAY_SECRET: 'short' })).toEqual(['CDP_GATEWAY_SECRET must be at least 32 characters']);
    expect(problemsOf({ ...PRODUCTION, CDP_ENCRYPTION_KEY: 'not-a-key' })).toEqual(['CDP_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64']);
  });

  it('lists every bad setting at once, in one error that says what to fix', () => {
    const env = {
      ...PRODUCTION,
      MONGODB_URI: 'postgres://db.example/cdp',
      GATEWAY_PORT: '70000',
      PROFILE_URL: 'ftp://profile.internal/graphql',
      CDP_DB_PREFIX: 'Bad-Prefix',
      CDP_LOG_LEVEL: 'loud',
      CDP_RATE_LIMIT_PER_MINUTE: '0',
      CDP_INTROSPECTION: 'yes',
    };
    const problems = problemsOf(env);
    for (const expected of [
      'MONGODB_URI must start with mongodb:// or mongodb+srv://',
      'GATEWAY_PORT must be a port number from 0 to 65535 (got "70000")',
      'PROFILE_URL must be an http(s) URL (got "ftp://profile.internal/graphql")',
      'CDP_DB_PREFIX must be 1-16 lowercase letters, digits or underscores, starting with a letter',
      'CDP_RATE_LIMIT_PER_MINUTE must be a whole number of at least 1 (got "0")',
      'CDP_INTROSPECTION must be true or false',
    ]) {
      expect(problems).toContain(expected);
    }
    expect(problems.filter((p) => p.startsWith('CDP_LOG_LEVEL must be one of'))).toHaveLength(1);
    expect(() => loadConfig(env)).toThrow(/^Invalid configuration:\n {2}- /);
  });
});

describe('loadConfig outside production', () => {
  it('generates the secrets for a single process, so `npm start` needs no settings', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('development');
    expect(config.security.gatewaySecret.length).toBeGreaterThanOrEqual(32);
    expect(config.security.encryptionKey).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({}).security.gatewaySecret).not.toBe(config.security.gatewaySecret);
    expect(config.security.introspection).toBe(true);
  });
});
