/**
 * The gateway's /metrics after a few requests: counts by operation type and
 * outcome, latency histograms, subgraph fetches and refusals, in Prometheus text
 * format. Each test file runs in its own process, so these counts are this file's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { uniqueName } from '../support/mongo.js';
import { metricValue, scrape } from './support.js';

describe('gateway /metrics', () => {
  let platform: TestPlatform;
  let metricsUrl: string;

  beforeAll(async () => {
    platform = await startTestPlatform({ env: { CDP_RATE_LIMIT_PER_MINUTE: '4' } });
    metricsUrl = new URL('/metrics', platform.gatewayUrl).toString();
  });
  afterAll(() => platform?.stop());

  it('counts requests by operation type and outcome, times them, and counts refusals by reason', async () => {
    const sandbox = uniqueName('metrics-');
    const key = await platform.keyFor(sandbox, 'editor');
    const before = await scrape(metricsUrl);
    expect(metricValue(before, 'cdp_gateway_refusals_total', { reason: 'auth' })).toBe(0);

    const list = '{ profiles(first: 1) { edges { node { id firstName } } } }';
    expect((await platform.query(list, {}, { key })).errors).toBeUndefined();
    expect((await platform.query(list, {}, { key })).errors).toBeUndefined();
    const upsert = 'mutation { upsertPeople(people: [{ firstName: "Ada", workEmail: "ada@metrics.example" }]) { status } }';
    expect((await platform.query(upsert, {}, { key })).errors).toBeUndefined();
    // Over the alias limit: refused before any subgraph is called.
    const aliases = `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: profile(id: "prof_${i}") { id }`).join(' ')} }`;
    expect((await platform.query(aliases, {}, { key })).errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
    // The key's budget of four is spent.
    expect((await platform.query(list, {}, { key })).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await platform.query(list, {}, { key: null })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await platform.query(list, {}, { key: 'cdpk_not-a-key' })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const text = await scrape(metricsUrl);
    expect(text).toContain('# TYPE cdp_gateway_requests_total counter');
    expect(metricValue(text, 'cdp_gateway_requests_total', { operation_type: 'query', outcome: 'ok' })).toBe(2);
    expect(metricValue(text, 'cdp_gateway_requests_total', { operation_type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(metricValue(text, 'cdp_gateway_refusals_total', { reason: 'limits' })).toBe(1);
    expect(metricValue(text, 'cdp_gateway_refusals_total', { reason: 'rate' })).toBe(1);
    expect(metricValue(text, 'cdp_gateway_refusals_total', { reason: 'auth' })).toBe(2);
    expect(metricValue(text, 'cdp_gateway_requests_total', { operation_type: 'unknown', outcome: 'refused' })).toBe(4);
    expect(metricValue(text, 'cdp_gateway_request_duration_seconds_count', { operation_type: 'query' })).toBe(2);
    expect(metricValue(text, 'cdp_gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'profile', outcome: 'ok' })).toBe(3);
    // Process metrics come with them.
    expect(text).toMatch(/^cdp_process_resident_memory_bytes \d+/m);
    // No label carries a key, a sandbox or an id.
    expect(text).not.toContain(sandbox);
    expect(text).not.toContain(key);
  });
});
