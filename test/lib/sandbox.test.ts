import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { DEFAULT_SANDBOX, parseSandboxName } from '../../lib/sandbox.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not a DomainError';
  }
  return undefined;
}

describe('sandbox names', () => {
  it('refuses a missing or empty name instead of reading it as the default sandbox', () => {
    for (const raw of ['', undefined, null]) expect(codeOf(() => parseSandboxName(raw))).toBe(ErrorCode.InvalidSandbox);
    expect(parseSandboxName(DEFAULT_SANDBOX)).toBe('default');
    expect(parseSandboxName('eu-prod')).toBe('eu-prod');
  });

  it('binds no database to an empty or invalid name', () => {
    // No connection is made: the name is refused before any database is named.
    const databases = createDatabases(new MongoClient('mongodb://127.0.0.1:1'), 'cdp_');
    expect(codeOf(() => databases.sandbox(''))).toBe(ErrorCode.InvalidSandbox);
    expect(codeOf(() => databases.sandbox('Default'))).toBe(ErrorCode.InvalidSandbox);
    expect(databases.sandbox('default').databaseName).toBe('cdp_sb_default');
  });
});
