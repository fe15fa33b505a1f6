/** The worker's counters fed from the jobs' own progress reports. */
import { describe, expect, it } from 'vitest';
import { countDeliveries, importRowCounter, reportStreamingLag } from '../../lib/metrics/jobMetrics.js';
import { renderMetrics } from '../../lib/metrics/registry.js';
import { metricValue } from './support.js';

const current = async () => (await renderMetrics()).body;

describe('worker metrics from progress reports', () => {
  it('counts an import’s rows once, from its cumulative checkpoints', async () => {
    const before = await current();
    const count = importRowCounter();
    count({ rowsImported: 900, rowsRejected: 100 });
    count({ rowsImported: 1_850, rowsRejected: 150 });
    count({ rowsImported: 1_850, rowsRejected: 150 });
    const after = await current();
    const delta = (outcome: string) => metricValue(after, 'cdp_import_rows_total', { outcome }) - metricValue(before, 'cdp_import_rows_total', { outcome });
    expect(delta('imported')).toBe(1_850);
    expect(delta('rejected')).toBe(150);
  });

  it('counts deliveries by destination type and outcome', async () => {
    countDeliveries('WEBHOOK', { delivered: 3, removed: 1, failed: 0, excluded: 2 });
    const text = await current();
    expect(metricValue(text, 'cdp_activation_deliveries_total', { destination_type: 'WEBHOOK', outcome: 'delivered' })).toBe(3);
    expect(metricValue(text, 'cdp_activation_deliveries_total', { destination_type: 'WEBHOOK', outcome: 'excluded' })).toBe(2);
    expect(text).not.toContain('destination_type="WEBHOOK",outcome="failed"');
  });

  it('shows the largest lag among the sandboxes this process evaluates', async () => {
    reportStreamingLag('sandbox-a', 1_500);
    reportStreamingLag('sandbox-b', 250);
    const text = await current();
    expect(metricValue(text, 'cdp_streaming_lag_seconds')).toBe(1.5);
    expect(text).not.toContain('sandbox-a');
  });
});
