/**
 * Live events reach subscribers on every gateway and every segment subgraph:
 * a second gateway composed over a second segment subgraph, each with a
 * MongoClient of its own (as separate processes would have), delivers the same
 * events as the first. Each process watches the log with one change stream,
 * however many subscribe, and closes it after the last leaves.
 */
import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../gateway/compose.js';
import type { RunningGateway } from '../../gateway/server.js';
import { startPlatformGateway } from '../../gateway/startPlatformGateway.js';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '../../lib/config.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import type { RunningService } from '../../lib/service.js';
import { changeFeedFor } from '../../lib/subgraph/changeFeed.js';
import { encodeCursor } from '../../subgraphs/segment/live/cursor.js';
import { startSegmentSubgraph } from '../../subgraphs/segment/server.js';
import { eventually } from '../gateway/support/wsClient.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { liveClient, type LiveClient } from './liveClient.js';
import { EventLog, MEMBERSHIP_CHANGED, createPersonWithAccount, createSegment, type MembershipChanged } from './support.js';

// Every process of a deployment shares these.
const env = {
  CDP_GATEWAY_SECRET: randomBytes(32).toString('base64url'),
  CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};

let platform: TestPlatform;
/** The second "process": its own MongoClient, segment subgraph and gateway. */
let secondClient: MongoClient;
let secondSegment: RunningService;
let secondGateway: RunningGateway;
let writer: MongoClient;
const clients: LiveClient[] = [];

beforeAll(async () => {
  [platform, secondClient, writer] = await Promise.all([startTestPlatform({ env }), connectTestClient(), connectTestClient()]);
  const config = loadConfig({ CDP_MODE: 'test', CDP_DB_PREFIX: platform.databasePrefix, ...env });
  const databases = createDatabases(secondClient, platform.databasePrefix);
  secondSegment = await startSegmentSubgraph({ databases, security: config.security, port: 0, host: '127.0.0.1' });
  const routingUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, name === 'segment' ? secondSegment.url : platform.subgraphs[name].url]),
  ) as Record<SubgraphName, string>;
  ({ gateway: secondGateway } = await startPlatformGateway({
    config,
    databases,
    supergraphSdl: await composeSupergraph({ routingUrls }),
    subgraphUrls: routingUrls,
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
  }));
});

afterAll(async () => {
  await Promise.all(clients.map((live) => live.dispose()));
  await secondGateway?.stop();
  await secondSegment?.stop();
  await Promise.all([secondClient?.close(), writer?.close()]);
  await platform?.stop();
});

async function connect(url: string, sandbox: string): Promise<LiveClient> {
  const live = liveClient(url, await platform.connectionParams(sandbox, 'viewer'));
  clients.push(live);
  return live;
}

describe('live audiences on several processes', () => {
  it('delivers every event through both gateways and both segment subgraphs, one change stream per process', async () => {
    const sandbox = uniqueName('scale-');
    const { personId } = await createPersonWithAccount(
      platform,
      sandbox,
      { firstName: 'Katherine', workEmail: 'kj@nasa.example', jobTitle: 'VP Flight' },
      { name: 'NASA', domain: 'nasa.example', industry: 'Aerospace' },
    );
    const segmentId = await createSegment(platform, sandbox, 'VPs');
    const log = new EventLog(writer, platform, sandbox);
    const after = encodeCursor(await log.repository.lastPosition());

    const onFirst = await connect(platform.wsUrl, sandbox);
    const onSecond = await connect(secondGateway.wsUrl, sandbox);
    const first = onFirst.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after });
    const second = [1, 2, 3].map(() => onSecond.subscribe<MembershipChanged>(MEMBERSHIP_CHANGED, { segmentId, after }));
    await log.append(log.event(segmentId, personId));

    for (const subscription of [first, ...second]) {
      const [event] = await subscription.take(1);
      expect(event!.segmentMembershipChanged).toMatchObject({ memberId: personId, profile: { workEmail: 'kj@nasa.example', account: { name: 'NASA' } } });
    }
    // Three subscribers on the second segment subgraph, one change stream there.
    expect(changeFeedFor(secondClient).openStreams).toBe(1);

    second.forEach((subscription) => subscription.stop());
    await eventually(() => changeFeedFor(secondClient).openStreams === 0, 5_000, 'the change stream to close after its last subscriber');
    // The first process still delivers.
    await log.append(log.event(segmentId, personId, 'exited'));
    expect((await first.take(2))[1]!.segmentMembershipChanged.status).toBe('EXITED');
  });
});
