/** The streaming part of the ingest benchmark: `ingestEvents` through the gateway from several clients. */
import type { GraphQLCall } from '../../lib/graphqlClient.js';
import { MUNCHKIN } from '../../lib/fixtures/exportFiles.js';

const round = (value: number) => Math.round(value * 100) / 100;

/** Several clients each sending batches of events for the imported leads, as a stream of updates would. */
export async function measureStreaming(call: GraphQLCall, leads: number, events: number) {
  const clients = 8;
  const batchSize = 100;
  const perClient = Math.ceil(events / clients / batchSize);
  const mutation = `mutation($events: [EventInput!]!) { ingestEvents(events: $events) { status } }`;
  let sent = 0;
  let rejected = 0;
  let failedCalls = 0;
  let lastFailure: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let b = 0; b < perClient; b++) {
        const batch = Array.from({ length: batchSize }, (_, i) => {
          const n = (c * perClient + b) * batchSize + i;
          return {
            sourceKey: `stream-${n}@${MUNCHKIN}.Marketo`,
            identity: { namespace: 'b2b_person', value: `${1000 + (n % leads)}@${MUNCHKIN}.Marketo` },
            type: 'web.pageView',
            timestamp: new Date(Date.UTC(2026, 1, 1) + n * 1000).toISOString(),
            url: `https://www.example.com/pricing/${n % 20}`,
          };
        });
        try {
          const { ingestEvents } = await call<{ ingestEvents: Array<{ status: string }> }>(mutation, { events: batch });
          sent += batch.length;
          rejected += ingestEvents.filter((r) => r.status === 'REJECTED').length;
        } catch (error) {
          // Counted and reported, not fatal: the rate is of events the platform accepted.
          failedCalls++;
          lastFailure = (error as Error).message.slice(0, 300);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { clients, batchSize, events: sent, rejected, failedCalls, lastFailure, seconds: round(seconds), eventsPerSecond: Math.round(sent / seconds) };
}
