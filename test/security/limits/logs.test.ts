/**
 * Logs hold no request data and no unbounded line, at every level: a mutation
 * carrying profile data, a request that fails variable coercion and an oversize
 * list leave no trace of their values, unless the documented debug switch
 * (CDP_LOG_REQUEST_DATA) is on.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/logger.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { uniqueName } from '../../support/mongo.js';

const EMAIL = 'grace.hopper@compilers.example';

function capture(lines: string[]) {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

async function exercise(platform: TestPlatform, sandbox: string): Promise<void> {
  const upsert = await platform.query(
    'mutation ($people: [PersonInput!]!) { upsertPeople(people: $people) { status } }',
    { people: [{ firstName: 'Grace', workEmail: EMAIL }] },
    { sandbox },
  );
  expect(upsert.errors).toBeUndefined();
  const coercion = await platform.query('query ($n: Int) { profiles(first: $n) { edges { node { id } } } }', { n: `${EMAIL} ${'x'.repeat(100_000)}` }, { sandbox });
  expect(coercion.errors?.length).toBeGreaterThan(0);
  const long = await platform.query('query ($ids: [ID!]) { profiles(first: 1) { edges { node { id } } } }', { ids: Array.from({ length: 20_000 }, () => EMAIL) }, { sandbox });
  expect(long.errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
}

describe('logs', () => {
  const lines: string[] = [];
  let platform: TestPlatform;
  const sandbox = uniqueName('logs-');

  beforeAll(async () => {
    platform = await startTestPlatform({ logger: createLogger({ level: 'trace', destination: capture(lines) }) });
  });
  afterAll(() => platform?.stop());

  it('carry no request data and no unbounded line, even at trace level', async () => {
    await exercise(platform, sandbox);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(EMAIL))).toEqual([]);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(64 * 1024);
  });
});

describe('logs with CDP_LOG_REQUEST_DATA', () => {
  const lines: string[] = [];
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ logger: createLogger({ level: 'trace', logRequestData: true, destination: capture(lines) }) });
  });
  afterAll(() => platform?.stop());

  it('carry variables for debugging, still bounded', async () => {
    await exercise(platform, uniqueName('logsdbg-'));
    expect(lines.filter((line) => line.includes(EMAIL))).not.toEqual([]);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(64 * 1024);
  });
});
