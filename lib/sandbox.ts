/**
 * Sandboxes are tenants. Each has its own MongoDB database, so data access bound
 * to one sandbox's database cannot reach another's by a forgotten filter.
 */
import { DomainError, ErrorCode } from './errors.js';

export const DEFAULT_SANDBOX = 'default';
export const SANDBOX_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * A valid sandbox name, or INVALID_SANDBOX. A missing or empty name is refused, never read
 * as `default`: code that means the default sandbox names DEFAULT_SANDBOX itself.
 */
export function parseSandboxName(raw: string | null | undefined): string {
  if (raw === undefined || raw === null || raw === '') {
    throw new DomainError(ErrorCode.InvalidSandbox, 'A sandbox name is required', { details: { pattern: SANDBOX_NAME_PATTERN.source } });
  }
  const name = raw;
  if (!SANDBOX_NAME_PATTERN.test(name)) {
    throw new DomainError(
      ErrorCode.InvalidSandbox,
      `Invalid sandbox name ${JSON.stringify(name.slice(0, 40))}: use a lowercase letter followed by up to 30 lowercase letters, digits or hyphens`,
      { details: { pattern: SANDBOX_NAME_PATTERN.source } },
    );
  }
  return name;
}

/** The database that holds one sandbox's data: `prefix` is the sandbox databases' prefix, e.g. `cdp_sb_`. */
export function sandboxDatabaseName(prefix: string, sandbox: string): string {
  return `${prefix}${sandbox}`;
}
