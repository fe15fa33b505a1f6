/**
 * A worker process killed (SIGKILL) in the middle of a delivery: the webhook
 * receiver has the batch but the worker dies before it hears back. Another
 * worker takes the activation over once the lease ends and sends the same batch
 * again under the same idempotency key and event ids, so a receiver that
 * deduplicates counts it once; later changes flow on from the stored position.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import type { RunningWorkerService } from '../../lib/jobs.js';
import { DEFAULT_AUDIENCE_SETTINGS } from '../../lib/config.js';
import { verifyWebhookSignature } from '../../subgraphs/destination/connectors/index.js';
import { createActivationDeliveryService } from '../../subgraphs/destination/activations/index.js';
import { startMockServer, type RunningMock } from '../mocks/httpServer.js';
import { mongoUri } from '../support/mongo.js';
import { killWorkerProcess, workerProcesses } from '../support/workerProcess.js';
import { TEST_SECURITY } from '../subgraphs/support/security.js';
import { activationBox, activationOf, createDestination, type ActivationBox } from './support.js';

const WORKER = fileURLToPath(new URL('./support/deliveryWorker.ts', import.meta.url));
const SECRET = 'hook-secret';

let box: ActivationBox;
let receiver: RunningMock;
let hang = true;
const deliveries: Array<{ key: string; events: Array<{ id: string; type: string; memberId: string }> }> = [];
const workers = workerProcesses();
let service: RunningWorkerService | undefined;

beforeAll(async () => {
  box = await activationBox({}, { realTime: true });
  receiver = await startMockServer(async (request) => {
    const body = JSON.parse(request.body) as { events: Array<{ id: string; type: string; memberId: string }> };
    if (!verifyWebhookSignature(SECRET, String(request.headers['x-cdp-signature']), request.body, Date.now() / 1000).ok) return { status: 401 };
    deliveries.push({ key: String(request.headers['idempotency-key']), events: body.events });
    // The receiver has taken the batch, but the sender never hears back while `hang` holds.
    if (hang) await new Promise(() => undefined);
    return { status: 204 };
  });
});
afterAll(async () => {
  await workers.killAll();
  await service?.stop();
  await receiver?.close();
  await box?.stop();
});

describe('a worker killed mid-delivery', { timeout: 60_000 }, () => {
  it('is taken over; the batch in flight is sent again with the same idempotency key, nothing counted twice, nothing lost', async () => {
    const destinationId = await createDestination(box, { type: 'WEBHOOK', name: 'Hook', config: { url: receiver.url }, credentials: { signingSecret: SECRET } });
    const segmentId = await box.putSegment('killed');
    for (const id of ['k1', 'k2', 'k3']) await box.putPerson(id, { email: `${id}@acme.example` });
    await box.enter(segmentId, ['k1', 'k2']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING' });

    const doomed = await workers.start(WORKER, { uri: mongoUri(), prefix: `${box.suite.prefix}_`, name: 'doomed', args: [TEST_SECURITY.encryptionKey] });
    await expect.poll(() => deliveries.length, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    await killWorkerProcess(doomed);
    hang = false;

    service = await createActivationDeliveryService({ leaseMs: 1_500, renewEveryMs: 100, pollMs: 100, sealWindowMs: 200 }).start({
      databases: box.suite.databases,
      logger: silentLogger,
      now: () => new Date(),
      subgraphUrls: { profile: '', account: '', segment: '', destination: '' },
      security: { gatewaySecret: 'w'.repeat(32), encryptionKey: TEST_SECURITY.encryptionKey },
      audiences: DEFAULT_AUDIENCE_SETTINGS,
    });
    await expect.poll(async () => (await activationOf(box, activation.id)).backfilled, { timeout: 20_000, interval: 100 }).toBe(true);
    await box.enter(segmentId, ['k3']);
    await expect.poll(() => deliveries.flatMap((d) => d.events).map((event) => event.memberId), { timeout: 20_000, interval: 100 }).toContain('k3');

    // The batch the dead worker sent arrived again, under the same key, with the same event ids.
    expect(deliveries[1]).toEqual(deliveries[0]);
    const unique = new Map(deliveries.map((delivery) => [delivery.key, delivery.events]));
    const counted = [...unique.values()].flat().map((event) => `${event.type}:${event.memberId}`);
    expect(counted.sort()).toEqual(['segment.entered:k1', 'segment.entered:k2', 'segment.entered:k3']);
  });
});
